"""App settings: maintenance:*, routing:*, whitelist:*, labels:*, autoscale:*, tls:*."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import output
from cli.client import Client
from cli.commands._common import AppOpt, JsonOpt, app_session
from cli.errors import CLIError


def _settings(client: Client, app_id: str) -> tuple[dict, str]:
    response = client.request("GET", f"/v2/apps/{app_id}/settings/")
    data = response.json() if response.content else {}
    return (data if isinstance(data, dict) else {}), response.text


def _apply(client: Client, app_id: str, prefix: str, body: dict) -> None:
    output.write(prefix)
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/settings/", body)
    output.line("done")


# --- maintenance ------------------------------------------------------------------------------------


def maintenance_info(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Prints whether maintenance mode is on for an application."""
    _, client, app_id = app_session(app)
    data, raw = _settings(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.line("Maintenance mode is on." if data.get("maintenance") else "Maintenance mode is off.")


def maintenance_on(app: AppOpt = None) -> None:
    """Enables maintenance mode: the router answers 503."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Enabling maintenance mode for {app_id}... ", {"maintenance": True})


def maintenance_off(app: AppOpt = None) -> None:
    """Disables maintenance mode."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Disabling maintenance mode for {app_id}... ", {"maintenance": False})


# --- routing ----------------------------------------------------------------------------------------


def routing_info(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Prints whether the router exposes an application."""
    _, client, app_id = app_session(app)
    data, raw = _settings(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    routable = data.get("routable")
    output.line("Routing is enabled." if routable is None or routable else "Routing is disabled.")


def routing_enable(app: AppOpt = None) -> None:
    """Exposes an application through the router."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Enabling routing for {app_id}... ", {"routable": True})


def routing_disable(app: AppOpt = None) -> None:
    """Stops exposing an application through the router."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Disabling routing for {app_id}... ", {"routable": False})


# --- whitelist --------------------------------------------------------------------------------------

AddressesArg = Annotated[
    str, typer.Argument(metavar="ADDRESSES", help="comma-separated IP addresses or networks, e.g. 1.2.3.4,10.0.0.0/8.")
]


def whitelist_list(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Lists the addresses allowed to reach an application."""
    _, client, app_id = app_session(app)
    response = client.request("GET", f"/v2/apps/{app_id}/whitelist/")
    if json_:
        output.raw_json(response.text)
        return
    data = response.json() if response.content else {}
    output.line(f"=== {app_id} Whitelisted Addresses")
    for address in data.get("addresses") or []:
        output.line(address)


def whitelist_add(addresses: AddressesArg, app: AppOpt = None) -> None:
    """Adds addresses to an application's whitelist."""
    _, client, app_id = app_session(app)
    output.line(f"Adding {addresses} to {app_id} whitelist...")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/whitelist/", {"addresses": addresses.split(",")})
    output.line("done")


def whitelist_remove(addresses: AddressesArg, app: AppOpt = None) -> None:
    """Removes addresses from an application's whitelist."""
    _, client, app_id = app_session(app)
    output.line(f"Removing {addresses} from {app_id} whitelist...")
    with output.spinner():
        client.delete(f"/v2/apps/{app_id}/whitelist/", {"addresses": addresses.split(",")})
    output.line("done")


# --- labels -----------------------------------------------------------------------------------------


def parse_labels(items: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        parts = item.split("=")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise CLIError(
                f"{item} is invalid, Must be in format key=value\n"
                "Examples: git_repo=https://github.com/deis/workflow team=frontend"
            )
        labels[parts[0]] = parts[1]
    return labels


def labels_list(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Lists an application's labels."""
    _, client, app_id = app_session(app)
    data, raw = _settings(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.labels(app_id, data.get("label") or {})


def labels_set(
    labels: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="labels to set, e.g. team=frontend.")],
    app: AppOpt = None,
) -> None:
    """Sets labels on an application."""
    _, client, app_id = app_session(app)
    body = {"label": parse_labels(labels)}
    _apply(client, app_id, f"Applying labels on {app_id}... ", body)


def labels_unset(
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="labels to remove.")],
    app: AppOpt = None,
) -> None:
    """Removes labels from an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Removing labels on {app_id}... ", {"label": {k: None for k in keys}})


# --- autoscale --------------------------------------------------------------------------------------

ProcTypeArg = Annotated[str, typer.Argument(metavar="PROCESS-TYPE", help="the process type, e.g. web.")]


def autoscale_list(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Lists autoscale rules for an application."""
    _, client, app_id = app_session(app)
    data, raw = _settings(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.autoscale(app_id, data.get("autoscale"))


def autoscale_set(
    proc_type: ProcTypeArg,
    min_: Annotated[int, typer.Option("--min", help="minimum replicas")],
    max_: Annotated[int, typer.Option("--max", help="maximum replicas")],
    cpu_percent: Annotated[int, typer.Option("--cpu-percent", help="target CPU utilisation in percent")],
    app: AppOpt = None,
) -> None:
    """Sets an autoscale rule for a process type."""
    _, client, app_id = app_session(app)
    rule = {"min": min_, "max": max_, "cpu_percent": cpu_percent}
    _apply(
        client,
        app_id,
        f"Applying autoscale settings for process type {proc_type} on {app_id}... ",
        {"autoscale": {proc_type: rule}},
    )


def autoscale_unset(proc_type: ProcTypeArg, app: AppOpt = None) -> None:
    """Removes the autoscale rule of a process type."""
    _, client, app_id = app_session(app)
    _apply(
        client,
        app_id,
        f"Removing autoscale for process type {proc_type} on {app_id}... ",
        {"autoscale": {proc_type: None}},
    )


# --- tls --------------------------------------------------------------------------------------------


def tls_info(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Prints whether the router enforces https for an application."""
    _, client, app_id = app_session(app)
    response = client.request("GET", f"/v2/apps/{app_id}/tls/")
    if json_:
        output.raw_json(response.text)
        return
    data = response.json() if response.content else {}
    enforced = data.get("https_enforced")
    output.line(f"=== {app_id} TLS")
    output.line("HTTPS Enforced: not set" if enforced is None else f"HTTPS Enforced: {output.go_value(enforced)}")


def _tls(app: str | None, enforce: bool) -> None:
    _, client, app_id = app_session(app)
    verb = "Enabling" if enforce else "Disabling"
    output.write(f"{verb} https-only requests for {app_id}... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/tls/", {"https_enforced": enforce})
    output.line("done")


def tls_enable(app: AppOpt = None) -> None:
    """Makes the router redirect http requests to https."""
    _tls(app, True)


def tls_disable(app: AppOpt = None) -> None:
    """Stops enforcing https for an application."""
    _tls(app, False)
