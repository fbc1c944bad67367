"""healthchecks:list, healthchecks:set, healthchecks:unset (config `healthcheck`)."""

from __future__ import annotations

import sys
import time

from cli import output
from cli.client import Client
from cli.commands._common import JSON, app_session
from cli.commands.config import fetch
from cli.errors import CLIError

# The v2.18 parser's default `--type` (kept "for backward compatibility").
DEFAULT_PROC_TYPE = "web/cmd"


def parse_headers(headers: str) -> list[dict[str, str]]:
    """`--header 'Name:value,Other:value'`: headers separated by commas, as the usage text says (the Go
    parser reads a misspelt `--headers` key and so never sends them); each split as `parseHeader` does."""
    parsed = []
    for header in headers.split(","):
        name, found, value = header.partition(":")
        if not found:
            raise CLIError(f"could not parse headers: could not find separator in header ({header})")
        parsed.append({"name": name.strip(), "value": value.strip()})
    return parsed


def _port(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CLIError(f'could not parse port: strconv.Atoi: parsing "{text}": invalid syntax') from None


def _int(value: str) -> int:
    """`safeGetInt`: a bad number ends the Go CLI through `log.Fatalf`, timestamp and all."""
    try:
        return int(value)
    except ValueError:
        stamp = time.strftime("%Y/%m/%d %H:%M:%S")
        output.error_line(f'{stamp} could not convert {value} to int: strconv.Atoi: parsing "{value}": invalid syntax')
        sys.exit(1)


def print_list(client: Client, app_id: str, proc_type: str = "") -> None:
    data, _ = fetch(client, app_id)
    output.healthchecks(app_id, data.get("healthcheck") or {}, proc_type)


def list_(app: str | None = None, proc_type: str = DEFAULT_PROC_TYPE, json_: bool = False) -> None:
    """Lists health checks for an application."""
    _, client, app_id = app_session(app)
    data, raw = fetch(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.healthchecks(app_id, data.get("healthcheck") or {}, proc_type)


def set_(
    app: str | None,
    health_type: str,
    probe_type: str,
    args: list[str],
    proc_type: str = DEFAULT_PROC_TYPE,
    path: str = "/",
    headers: str | None = None,
    timing: dict[str, int] | None = None,
) -> None:
    """Sets a liveness or readiness probe for an application (`timing`: the probe's delays/thresholds)."""
    if health_type not in ("liveness", "readiness"):
        raise CLIError('Invalid healthcheck type. Must be one of: "liveness", "readiness"')
    probe_name = health_type + "Probe"
    probe: dict = dict(timing or {})
    if probe_type == "httpGet":
        parsed = parse_headers(headers) if headers else None  # before the port, as the Go parser does
        http: dict = {"path": path, "port": _port(args[0])}
        if parsed:
            http["httpHeaders"] = parsed
        probe["httpGet"] = http
    elif probe_type == "exec":
        probe["exec"] = {"command": list(args)}
    elif probe_type == "tcpSocket":
        probe["tcpSocket"] = {"port": _port(args[0])}
    else:
        raise CLIError('Invalid probe type. Must be one of: "httpGet", "exec"')
    _, client, app_id = app_session(app)
    output.write(f"Applying {probe_name} healthcheck... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/config/", {"healthcheck": {proc_type: {probe_name: probe}}})
    output.write("done\n\n")
    print_list(client, app_id, proc_type)


def unset(health_types: list[str], app: str | None = None, proc_type: str = DEFAULT_PROC_TYPE) -> None:
    """Unsets health checks for an application."""
    _, client, app_id = app_session(app)
    probes = {h + "Probe": None for h in health_types}
    output.write("Removing healthchecks... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/config/", {"healthcheck": {proc_type: probes}})
    output.write("done\n\n")
    print_list(client, app_id, proc_type)


def _set(a: dict) -> None:
    timing = {
        "initialDelaySeconds": _int(a["--initial-delay-timeout"]),
        "timeoutSeconds": _int(a["--timeout-seconds"]),
        "periodSeconds": _int(a["--period-seconds"]),
        "successThreshold": _int(a["--success-threshold"]),
        "failureThreshold": _int(a["--failure-threshold"]),
    }
    set_(
        a["--app"],
        a["<health-type>"],
        a["<probe-type>"],
        a["<args>"],
        a["--type"] or DEFAULT_PROC_TYPE,
        a["--path"],
        a["--header"],
        timing,
    )


EXTRAS = {"healthchecks:list": JSON}
COMMANDS = {
    "healthchecks:list": lambda a: list_(a["--app"], a["--type"] or DEFAULT_PROC_TYPE, a["--json"]),
    "healthchecks:set": _set,
    "healthchecks:unset": lambda a: unset(a["<health-type>"], a["--app"], a["--type"] or DEFAULT_PROC_TYPE),
}
