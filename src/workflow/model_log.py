"""Deis Workflow's own lines in an app's log, written when the objects behind them are saved.

Deis's controller logs a line into the app's log for every object it saves — post_save/post_delete signal
handlers in deis/controller `rootfs/api/models/__init__.py` — and scripts and the Workflow tooling grep
`deis logs` for them. This is the same mechanism: a `before_flush` hook sees the rows a flush is about to
write and adds one `Event` per row, in the order the rows were added, with upstream's text:

    config <app>-<uuid[:7]> updated        a Config row saved (every config change is a new row)
    <release summary>                      a Release row created (v1: `<owner> created initial release`)
    build <app>-<uuid[:7]> created         a Build row created
    domain <domain> added / removed        a Domain row created / deleted
    appsettings <app>-<uuid[:7]> updated   an AppSettings row saved

Rows that a request never commits (a refused change) never flush, so they log nothing; the events are
written in the same transaction as the rows they describe.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from .models import AppSettings, Build, Config, Domain, Event, Release


def _short(row: Any) -> str:
    """Upstream's `__str__` of Build, Config and AppSettings: `<app>-<first 7 of the uuid>`."""
    return f"{row.app_id}-{row.uuid[:7]}"


def _saved_line(row: Any) -> str | None:
    if isinstance(row, Config):
        return f"config {_short(row)} updated"
    if isinstance(row, Release):
        return row.summary
    if isinstance(row, Build):
        return f"build {_short(row)} created"
    if isinstance(row, Domain):
        return f"domain {row.domain} added"
    if isinstance(row, AppSettings):
        return f"appsettings {_short(row)} updated"
    return None


class ModelLogSession(Session):
    """The sync session behind every AsyncSession of the service: logs saved rows as above."""


@event.listens_for(ModelLogSession, "before_flush")
def _log_saved_rows(session: Session, _flush_context, _instances) -> None:
    # Config, Build, Release and AppSettings rows are never updated in place here (each change is a new
    # row), so new rows are the whole of upstream's post_save; of deletions, upstream logs domains'.
    events: list[Event] = []
    for row in list(session.new):
        line = _saved_line(row)
        if line:
            events.append(Event(app_id=row.app_id, message=line))
    for row in list(session.deleted):
        if isinstance(row, Domain):
            events.append(Event(app_id=row.app_id, message=f"domain {row.domain} removed"))
    session.add_all(events)
