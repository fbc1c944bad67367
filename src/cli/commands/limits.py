"""limits:list, limits:set, limits:unset (config `memory` / `cpu`)."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from cli import output
from cli.client import Client
from cli.commands._common import AppOpt, JsonOpt, app_session
from cli.commands.config import fetch
from cli.errors import CLIError

_MEM = r"[0-9]+[bkmgBKMG]{1,2}|0"
_CPU = r"[0-9.]{1,5}m?"
_LIMIT_RE = re.compile(rf"^([a-z0-9]+(?:-[a-z0-9]+)*)=((?:{_MEM}|{_CPU})(?:/(?:{_MEM}|{_CPU}))?)$")

MemoryOpt = Annotated[bool, typer.Option("-m", "--memory", help="limit memory (default).")]
CpuOpt = Annotated[bool, typer.Option("-c", "--cpu", help="limit CPU instead of memory.")]


def parse_limits(items: list[str]) -> dict[str, str]:
    limits: dict[str, str] = {}
    for item in items:
        match = _LIMIT_RE.match(item)
        if not match:
            raise CLIError(
                f"Error parsing limit {item}: {item} doesn't fit format type=#unit or type=#\n"
                "Examples: web=2G worker=500M web=300"
            )
        limits[match.group(1)] = match.group(2)
    return limits


def print_list(client: Client, app_id: str) -> None:
    data, _ = fetch(client, app_id)
    output.limits(app_id, data)


def list_(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Lists resource limits for an application."""
    _, client, app_id = app_session(app)
    data, raw = fetch(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.limits(app_id, data)


def _apply(client: Client, app_id: str, field: str, values: dict) -> None:
    output.write("Applying limits... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/config/", {field: values})
    output.write("done\n\n")
    print_list(client, app_id)


def set_(
    limits: Annotated[
        list[str], typer.Argument(metavar="TYPE=VALUE...", help="e.g. web=2G worker=500M, or with --cpu web=500m.")
    ],
    app: AppOpt = None,
    memory: MemoryOpt = False,
    cpu: CpuOpt = False,
) -> None:
    """Sets resource limits (memory by default, --cpu for CPU) for an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, "cpu" if cpu else "memory", parse_limits(limits))


def unset(
    types: Annotated[list[str], typer.Argument(metavar="TYPE...", help="the process types whose limit to remove.")],
    app: AppOpt = None,
    memory: MemoryOpt = False,
    cpu: CpuOpt = False,
) -> None:
    """Unsets resource limits for an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, "cpu" if cpu else "memory", {t: None for t in types})
