"""tags:list, tags:set, tags:unset (config `tags`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import output
from cli.client import Client
from cli.commands._common import AppOpt, JsonOpt, app_session
from cli.commands.config import fetch
from cli.errors import CLIError


def parse_tags(items: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        parts = item.split("=")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise CLIError(f"{item} is invalid, Must be in format key=value\nExamples: rack=1 evironment=production")
        tags[parts[0]] = parts[1]
    return tags


def print_list(client: Client, app_id: str) -> None:
    data, _ = fetch(client, app_id)
    output.line(f"=== {app_id} Tags")
    output.write(output.pretty_tabs(data.get("tags") or {}, 5))


def list_(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Lists tags for an application."""
    _, client, app_id = app_session(app)
    if json_:
        output.raw_json(fetch(client, app_id)[1])
        return
    print_list(client, app_id)


def _apply(client: Client, app_id: str, tags: dict) -> None:
    output.write("Applying tags... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/config/", {"tags": tags})
    output.write("done\n\n")
    print_list(client, app_id)


def set_(
    tags: Annotated[
        list[str], typer.Argument(metavar="KEY=VALUE...", help="tags to set, e.g. environment=production.")
    ],
    app: AppOpt = None,
) -> None:
    """Sets tags for an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, parse_tags(tags))


def unset(
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="tags to remove.")],
    app: AppOpt = None,
) -> None:
    """Unsets tags for an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, {k: None for k in keys})
