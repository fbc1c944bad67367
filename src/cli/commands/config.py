"""config:list, config:set, config:unset, config:pull, config:push."""

from __future__ import annotations

import os
import re
import stat
import sys

from cli import output, progress
from cli.client import Client
from cli.commands._common import JSON, app_session, read_file
from cli.errors import CLIError

# The Go CLI's pattern, `[A-z]` included (it also admits `[\]^_` and backtick).
_VAR_RE = re.compile(r"([A-z_]+[A-z0-9_]*)=([\s\S]*)")
_HEALTHCHECK_NOTICE = (
    "Hey there! We've noticed that you're using 'deis config:set HEALTHCHECK_URL'\n"
    "to set up healthchecks. This functionality has been deprecated. In the future, please use\n"
    "'deis healthchecks' to set up application health checks. Thanks!"
)

def parse_vars(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        if not item or item.startswith("#"):
            continue
        match = _VAR_RE.fullmatch(item)
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


def list_(app: str | None = None, oneline: bool = False, diff: bool = False, json_: bool = False) -> None:
    """Lists environment variables for an application (`diff`, our extra: KEY=VALUE lines)."""
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
    with progress.deploying(client, app_id):
        result = client.post(f"/v2/apps/{app_id}/config/", {"values": values}) or {}
    release = (result.get("values") or {}).get("WORKFLOW_RELEASE") if isinstance(result, dict) else None
    output.write(f"done, {release}\n\n" if release else "done\n\n")
    print_list(client, app_id)


def set_(variables: list[str], app: str | None = None) -> None:
    """Sets environment variables for an application."""
    _, client, app_id = app_session(app)
    _set(client, app_id, parse_vars(variables))


def unset(keys: list[str], app: str | None = None) -> None:
    """Unsets environment variables for an application."""
    _, client, app_id = app_session(app)
    output.write("Removing config... ")
    with progress.deploying(client, app_id):  # a new release, deployed like config:set's
        client.post(f"/v2/apps/{app_id}/config/", {"values": {key: None for key in keys}})
    output.write("done\n\n")
    print_list(client, app_id)


def _env_lines(contents: str) -> list[str]:
    return [line.strip("\r") for line in contents.split("\n") if line.strip("\r")]


def _is_char_device(stream) -> bool:
    """Go's `Stat().Mode() & os.ModeCharDevice`: a terminal or /dev/null; not a pipe or a file."""
    try:
        return stat.S_ISCHR(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return False


def _stdin_has_data() -> bool:
    """stdin is a pipe or a non-empty file (`deis config:push < .env`)."""
    try:
        mode = os.fstat(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode.st_mode) or (stat.S_ISREG(mode.st_mode) and mode.st_size > 0)


def pull(app: str | None = None, interactive: bool = False, overwrite: bool = False) -> None:
    """Extracts the environment variables of an application: printed as .env lines when stdout is not a
    terminal (`deis config:pull > file`), else written to ./.env (`cmd/config.go ConfigPull`)."""
    _, client, app_id = app_session(app)
    data, _ = fetch(client, app_id)
    remote = {k: output.go_value(v) for k, v in (data.get("values") or {}).items()}
    if not _is_char_device(sys.stdout):
        output.write(output.dotenv(remote))
        return
    filename = ".env"
    if not overwrite and os.path.exists(filename):
        raise CLIError(f"{filename} already exists, pass -o to overwrite")
    values = remote
    if interactive:
        local = parse_vars(read_file(filename).split("\n")[:-1])
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


def push(app: str | None = None, path: str = ".env") -> None:
    """Sets environment variables from a .env file (KEY=VALUE lines), or from stdin when it is piped and no
    other path was given (`deis config:push < .env`)."""
    _, client, app_id = app_session(app)
    piped = sys.stdin.read() if path == ".env" and _stdin_has_data() else ""
    # An empty pipe (a CI runner's stdin) is no input: the file is read then.
    contents = piped if piped.strip() else read_file(path)
    _set(client, app_id, parse_vars(_env_lines(contents)))


EXTRAS = {"config:list": {**JSON, "--diff": "--diff"}}
COMMANDS = {
    "config:list": lambda a: list_(a["--app"], a["--oneline"], a["--diff"], a["--json"]),
    "config:set": lambda a: set_(a["<var>=<value>"], a["--app"]),
    "config:unset": lambda a: unset(a["<key>"], a["--app"]),
    "config:pull": lambda a: pull(a["--app"], a["--interactive"], a["--overwrite"]),
    "config:push": lambda a: push(a["--app"], a["--path"]),
}
