"""registry:list, registry:set, registry:unset (config `registry`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import output
from cli.client import Client
from cli.commands._common import AppOpt, JsonOpt, app_session
from cli.commands.config import fetch
from cli.errors import CLIError


def parse_items(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, found, value = item.partition("=")
        if not found or not key or not value:
            raise CLIError(f"{item} is invalid. Must be in format key=value\nExamples: username=bob password=s3cur3pw1")
        if key not in ("username", "password"):
            raise CLIError(f'{key} is invalid. Valid keys are "username" or "password"')
        values[key] = value
    return values


def print_list(client: Client, app_id: str) -> None:
    data, _ = fetch(client, app_id)
    output.line(f"=== {app_id} Registry")
    output.write(output.pretty_tabs(data.get("registry") or {}, 5))


def list_(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Lists private registry credentials for an application."""
    _, client, app_id = app_session(app)
    if json_:
        output.raw_json(fetch(client, app_id)[1])
        return
    print_list(client, app_id)


def _apply(client: Client, app_id: str, values: dict) -> None:
    output.write("Applying registry information... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/config/", {"registry": values})
    output.write("done\n\n")
    print_list(client, app_id)


def set_(
    items: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="username=... and/or password=...")],
    app: AppOpt = None,
) -> None:
    """Sets private registry credentials for an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, parse_items(items))


def unset(
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="username and/or password.")],
    app: AppOpt = None,
) -> None:
    """Unsets private registry credentials for an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, {k: None for k in keys})
