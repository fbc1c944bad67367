"""ps:list, ps:scale, ps:restart."""

from __future__ import annotations

import re

from cli import output, progress
from cli.client import Client
from cli.commands._common import JSON, Timer, app_session, drink
from cli.errors import CLIError

_SCALE_RE = re.compile(r"([a-z0-9]+(?:-[a-z0-9]+)*)=([0-9]+)")
_POD_SUFFIX_RE = re.compile(r"[0-9]{8,10}-[a-z0-9]{5}$")


# `parser/ps.go` asks for 1000 pods ("fake for now until API understands limits"); other listings of
# pods (after scale, in apps:info) use the profile's limit.
PS_LIST_LIMIT = 1000


def fetch(client: Client, app_id: str, limit: int | None = None) -> tuple[list[dict], str]:
    pods, _, raw = client.paged(f"/v2/apps/{app_id}/pods/", limit)
    return pods, raw


def print_list(client: Client, app_id: str) -> None:
    pods, _ = fetch(client, app_id)
    output.processes(app_id, pods)


def list_(app: str | None = None, json_: bool = False) -> None:
    """Lists processes servicing an application."""
    _, client, app_id = app_session(app)
    pods, raw = fetch(client, app_id, PS_LIST_LIMIT)
    if json_:
        output.raw_json(raw)
        return
    output.processes(app_id, pods)


def parse_targets(targets: list[str]) -> dict[str, int]:
    result: dict[str, int] = {}
    for target in targets:
        match = _SCALE_RE.fullmatch(target)
        if not match:
            raise CLIError(f"'{target}' does not match the pattern 'type=num', ex: web=2\n")
        result[match.group(1)] = int(match.group(2))
    return result


def scale(targets: list[str], app: str | None = None) -> None:
    """Scales an application's processes by type."""
    _, client, app_id = app_session(app)
    body = parse_targets(targets)
    output.line(f"Scaling processes... but first, {drink()}!")
    timer = Timer()
    with progress.deploying(client, app_id, new_release=False, line_open=False):
        client.post(f"/v2/apps/{app_id}/scale/", body)
    output.line(f"done in {timer.seconds}s")
    print_list(client, app_id)


def parse_type(target: str, app_id: str) -> tuple[str, str]:
    """`ps.go parseType`: a pod name gives its type (and itself), anything else is a type."""
    if "-" not in target:
        return target, ""
    replaced = target.replace(app_id + "-", "", 1)
    parts = replaced.split("-")
    if _POD_SUFFIX_RE.search(replaced):
        return parts[0], target
    return (parts[1] if len(parts) > 1 else parts[0]), target


def restart(target: str | None = None, app: str | None = None) -> None:
    """Restarts an application's processes: all, one type, or one pod."""
    _, client, app_id = app_session(app)
    ptype, name = parse_type(target, app_id) if target else ("", "")
    path = f"/v2/apps/{app_id}/pods/"
    if ptype:
        path += f"{ptype}/"
        if name:
            path += f"{name}/"
    path += "restart/"
    output.line(f"Restarting processes... but first, {drink()}!")
    timer = Timer()
    with progress.deploying(client, app_id, new_release=False, line_open=False):
        try:
            pods = client.post(path)
        except CLIError as exc:
            if exc.message == "Pod not found in application":
                raise CLIError(f"Could not find proccess type {ptype} in app {app_id}") from None
            raise
    if not pods:
        output.line("Could not find any processes to restart")
        return
    output.line(f"done in {timer.seconds}s")
    output.processes(app_id, pods)


EXTRAS = {"ps:list": JSON}
COMMANDS = {
    "ps:list": lambda a: list_(a["--app"], a["--json"]),
    "ps:restart": lambda a: restart(a["<type>"], a["--app"]),
    "ps:scale": lambda a: scale(a["<type>=<num>"], a["--app"]),
}
