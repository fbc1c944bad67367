"""healthchecks:list, healthchecks:set, healthchecks:unset (config `healthcheck`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import output
from cli.client import Client
from cli.commands._common import AppOpt, JsonOpt, app_session
from cli.commands.config import fetch
from cli.errors import CLIError

DEFAULT_PROC_TYPE = "web/cmd"
_HEALTH_TYPES = ("liveness", "readiness")

TypeOpt = Annotated[str, typer.Option("--type", help="the process type the health check applies to.")]


def check_health_type(value: str) -> str:
    if value not in _HEALTH_TYPES:
        raise CLIError(f"probe type {value} is invalid. Must be one of [liveness readiness]")
    return value + "Probe"


def parse_headers(headers: str) -> list[dict[str, str]]:
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


def print_list(client: Client, app_id: str, proc_type: str = "") -> None:
    data, _ = fetch(client, app_id)
    output.healthchecks(app_id, data.get("healthcheck") or {}, proc_type)


def list_(app: AppOpt = None, proc_type: TypeOpt = "", json_: JsonOpt = False) -> None:
    """Lists health checks for an application."""
    _, client, app_id = app_session(app)
    data, raw = fetch(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.healthchecks(app_id, data.get("healthcheck") or {}, proc_type)


def set_(
    health_type: Annotated[str, typer.Argument(metavar="HEALTH-TYPE", help="liveness or readiness.")],
    probe_type: Annotated[str, typer.Argument(metavar="PROBE-TYPE", help="httpGet, exec or tcpSocket.")],
    args: Annotated[
        list[str], typer.Argument(metavar="ARGS...", help="a port (httpGet, tcpSocket) or a command (exec).")
    ],
    app: AppOpt = None,
    path: Annotated[str, typer.Option("-p", "--path", help="the relative URL path for 'httpGet' probes.")] = "/",
    proc_type: TypeOpt = "",
    headers: Annotated[
        str, typer.Option("--headers", help="HTTP headers for 'httpGet' probes, 'Name:value' separated by commas.")
    ] = "",
    initial_delay: Annotated[
        int, typer.Option("--initial-delay-timeout", help="the initial delay timeout for the probe")
    ] = 50,
    timeout: Annotated[
        int, typer.Option("--timeout-seconds", help="the number of seconds after which the probe times out")
    ] = 50,
    period: Annotated[int, typer.Option("--period-seconds", help="how often (in seconds) to perform the probe")] = 10,
    success: Annotated[
        int,
        typer.Option(
            "--success-threshold",
            help="minimum consecutive successes for the probe to be considered successful after having failed",
        ),
    ] = 1,
    failure: Annotated[
        int,
        typer.Option(
            "--failure-threshold",
            help="minimum consecutive failures for the probe to be considered failed after having succeeded",
        ),
    ] = 3,
) -> None:
    """Sets a liveness or readiness probe for an application."""
    _, client, app_id = app_session(app)
    proc_type = proc_type or DEFAULT_PROC_TYPE
    probe_name = check_health_type(health_type)
    probe: dict = {
        "initialDelaySeconds": initial_delay,
        "timeoutSeconds": timeout,
        "periodSeconds": period,
        "successThreshold": success,
        "failureThreshold": failure,
    }
    if probe_type == "httpGet":
        http: dict = {"path": path, "port": _port(args[0])}
        if headers:
            http["httpHeaders"] = parse_headers(headers)
        probe["httpGet"] = http
    elif probe_type == "exec":
        probe["exec"] = {"command": list(args)}
    elif probe_type == "tcpSocket":
        probe["tcpSocket"] = {"port": _port(args[0])}
    else:
        raise CLIError('Invalid probe type. Must be one of: "httpGet", "exec"')
    output.write(f"Applying {probe_name} healthcheck... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/config/", {"healthcheck": {proc_type: {probe_name: probe}}})
    output.write("done\n\n")
    print_list(client, app_id, proc_type)


def unset(
    health_types: Annotated[list[str], typer.Argument(metavar="HEALTH-TYPE...", help="liveness and/or readiness.")],
    app: AppOpt = None,
    proc_type: TypeOpt = "",
) -> None:
    """Unsets health checks for an application."""
    _, client, app_id = app_session(app)
    proc_type = proc_type or DEFAULT_PROC_TYPE
    probes = {check_health_type(h): None for h in health_types}
    output.write("Removing healthchecks... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/config/", {"healthcheck": {proc_type: probes}})
    output.write("done\n\n")
    print_list(client, app_id, proc_type)
