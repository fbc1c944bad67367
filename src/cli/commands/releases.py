"""releases:list, releases:info, releases:rollback."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from cli import output
from cli.commands._common import AppOpt, JsonOpt, LimitOpt, app_session
from cli.errors import CLIError

_VERSION_RE = re.compile(r"^v?([0-9]+)$")

VersionArg = Annotated[str, typer.Argument(metavar="vN", help="the release version, e.g. v1.")]


def parse_version(text: str) -> int:
    match = _VERSION_RE.match(text.strip())
    if not match:
        raise CLIError(f"{text} is not in the form 'v#'")
    return int(match.group(1))


def list_(app: AppOpt = None, limit: LimitOpt = None, json_: JsonOpt = False) -> None:
    """Lists release history for an application."""
    _, client, app_id = app_session(app)
    releases, count, raw = client.paged(f"/v2/apps/{app_id}/releases/", limit)
    if json_:
        output.raw_json(raw)
        return
    output.write(f"=== {app_id} Releases" + output.limit_count(len(releases), count))
    output.write(
        output.tabwriter(
            [f"v{r.get('version', '')}", str(r.get("created", "")), str(r.get("summary", ""))] for r in releases
        )
    )


def info(version: VersionArg, app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Prints info about a particular release."""
    _, client, app_id = app_session(app)
    number = parse_version(version)
    response = client.request("GET", f"/v2/apps/{app_id}/releases/v{number}/")
    if json_:
        output.raw_json(response.text)
        return
    r = response.json()
    output.line(f"=== {app_id} Release v{number}")
    if r.get("build"):
        output.println("build:   ", r["build"])
    output.println("config:  ", r.get("config", ""))
    output.println("owner:   ", r.get("owner", ""))
    output.println("created: ", r.get("created", ""))
    output.println("summary: ", r.get("summary", ""))
    output.println("updated: ", r.get("updated", ""))
    output.println("uuid:    ", r.get("uuid", ""))


def rollback(
    version: Annotated[
        str | None,
        typer.Argument(metavar="[vN]", help="the release to roll back to; default: the one before the current."),
    ] = None,
    app: AppOpt = None,
) -> None:
    """Rolls back to a previous application release."""
    _, client, app_id = app_session(app)
    if version is None:
        output.write("Rolling back one release... ")
        body = None
    else:
        number = parse_version(version)
        output.write(f"Rolling back to v{number}... ")
        body = {"version": number}
    with output.spinner():
        data = client.post(f"/v2/apps/{app_id}/releases/rollback/", body) or {}
    output.line(f"done, v{data.get('version', '')}")
