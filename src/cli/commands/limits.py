"""limits:list, limits:set, limits:unset (config `memory` / `cpu`)."""

from __future__ import annotations

import re

from cli import output
from cli.client import Client
from cli.commands._common import JSON, app_session
from cli.commands.config import fetch
from cli.errors import CLIError

_MEM = r"[0-9]+[bkmgBKMG]{1,2}|0"
_CPU = r"[0-9.]{1,5}m?"
_LIMIT_RE = re.compile(rf"([a-z0-9]+(?:-[a-z0-9]+)*)=((?:{_MEM}|{_CPU})(?:/(?:{_MEM}|{_CPU}))?)")



def parse_limits(items: list[str]) -> dict[str, str]:
    limits: dict[str, str] = {}
    for item in items:
        match = _LIMIT_RE.fullmatch(item)
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


def list_(app: str | None = None, json_: bool = False) -> None:
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


def set_(limits: list[str], app: str | None = None, cpu: bool = False) -> None:
    """Sets resource limits (memory by default, --cpu for CPU) for an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, "cpu" if cpu else "memory", parse_limits(limits))


def unset(types: list[str], app: str | None = None, cpu: bool = False) -> None:
    """Unsets resource limits for an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, "cpu" if cpu else "memory", {t: None for t in types})


EXTRAS = {"limits:list": JSON}
COMMANDS = {
    "limits:list": lambda a: list_(a["--app"], a["--json"]),
    "limits:set": lambda a: set_(a["<type>=<limit>"], a["--app"], a["--cpu"]),
    "limits:unset": lambda a: unset(a["<type>"], a["--app"], a["--cpu"]),
}
