"""config:list, config:set, config:unset, config:pull, config:push."""

from __future__ import annotations

import os
import re
from typing import Annotated

import typer

from cli import output
from cli.client import Client
from cli.commands._common import AppOpt, JsonOpt, app_session
from cli.errors import CLIError

# The Go CLI's pattern, `[A-z]` included (it also admits `[\]^_` and backtick).
_VAR_RE = re.compile(r"^([A-z_]+[A-z0-9_]*)=([\s\S]*)$")
_HEALTHCHECK_NOTICE = (
    "Hey there! We've noticed that you're using 'deis config:set HEALTHCHECK_URL'\n"
    "to set up healthchecks. This functionality has been deprecated. In the future, please use\n"
    "'deis healthchecks' to set up application health checks. Thanks!"
)

VarsArg = Annotated[
    list[str], typer.Argument(metavar="KEY=VALUE...", help="the config variables to set, e.g. MODE=test.")
]


def parse_vars(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        if not item or item.startswith("#"):
            continue
        match = _VAR_RE.match(item)
        if not match:
            raise CLIError(f"'{item}' does not match the pattern 'key=var', ex: MODE=test\n")
        values[match.group(1)] = match.group(2)
    return values


def fetch(client: Client, app_id: str) -> tuple[dict, str]:
    response = client.request("GET", f"/v2/apps/{app_id}/config/")
    data = response.json() if response.content else {}
    return (data if isinstance(data, dict) else {}), response.text


def print_list(client: Client, app_id: str, fmt: str = "") -> None:
    data, _ = fetch(client, app_id)
    output.config_list(app_id, data.get("values") or {}, fmt)


def list_(
    app: AppOpt = None,
    oneline: Annotated[bool, typer.Option("--oneline", help="print output on one line.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="print output as KEY=VALUE lines, one per line.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Lists environment variables for an application."""
    _, client, app_id = app_session(app)
    data, raw = fetch(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    fmt = "oneline" if oneline else "diff" if diff else ""
    output.config_list(app_id, data.get("values") or {}, fmt)


def _set(client: Client, app_id: str, values: dict[str, str]) -> None:
    if any("HEALTHCHECK_" in key for key in values):
        output.line(_HEALTHCHECK_NOTICE)
    output.write("Creating config... ")
    with output.spinner():
        result = client.post(f"/v2/apps/{app_id}/config/", {"values": values}) or {}
    release = (result.get("values") or {}).get("WORKFLOW_RELEASE") if isinstance(result, dict) else None
    output.write(f"done, {release}\n\n" if release else "done\n\n")
    print_list(client, app_id)


def set_(variables: VarsArg, app: AppOpt = None) -> None:
    """Sets environment variables for an application."""
    _, client, app_id = app_session(app)
    _set(client, app_id, parse_vars(variables))


def unset(
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="the config variables to remove.")],
    app: AppOpt = None,
) -> None:
    """Unsets environment variables for an application."""
    _, client, app_id = app_session(app)
    output.write("Removing config... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/config/", {"values": {key: None for key in keys}})
    output.write("done\n\n")
    print_list(client, app_id)


def _read_env(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            contents = fh.read()
    except OSError as exc:
        raise CLIError(f"open {path}: {exc.strerror.lower() if exc.strerror else exc}") from None
    return [line.strip("\r") for line in contents.split("\n") if line.strip("\r")]


def pull(
    app: AppOpt = None,
    interactive: Annotated[
        bool, typer.Option("-i", "--interactive", help="prompts for each value to be overwritten")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("-o", "--overwrite", help="allows you to have the pull overwrite keys in .env")
    ] = False,
) -> None:
    """Extracts the environment variables of an application into .env."""
    _, client, app_id = app_session(app)
    data, _ = fetch(client, app_id)
    remote = {k: output.go_value(v) for k, v in (data.get("values") or {}).items()}
    filename = ".env"
    if not overwrite and not interactive and os.path.exists(filename):
        raise CLIError(f"{filename} already exists, pass -o to overwrite")
    values = remote
    if interactive:
        local = parse_vars(_read_env(filename)) if os.path.exists(filename) else {}
        for key in sorted(remote):
            if key in local and local[key] != remote[key]:
                answer = output.prompt(f"{key}: overwrite {local[key]} with {remote[key]}? (y/N) ")
                if answer.strip().lower() == "y":
                    local[key] = remote[key]
            elif key not in local:
                local[key] = remote[key]
        values = local
    fd = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(output.dotenv(values))


def push(
    app: AppOpt = None,
    path: Annotated[str, typer.Option("-p", "--path", help="a path leading to an environment file.")] = ".env",
) -> None:
    """Sets environment variables for an application from a .env file (KEY=VALUE lines)."""
    _, client, app_id = app_session(app)
    _set(client, app_id, parse_vars(_read_env(path)))
