"""App settings: maintenance:*, routing:*, whitelist:*, labels:*, autoscale:*, tls:*."""

from __future__ import annotations

from cli import output
from cli.client import Client
from cli.commands import autoscale
from cli.commands._common import JSON, app_session
from cli.errors import CLIError
from cli.usage import autoscale as autoscale_usage


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


def maintenance_info(app: str | None = None, json_: bool = False) -> None:
    """Prints whether maintenance mode is on for an application."""
    _, client, app_id = app_session(app)
    data, raw = _settings(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.line("Maintenance mode is on." if data.get("maintenance") else "Maintenance mode is off.")


def maintenance_on(app: str | None = None) -> None:
    """Enables maintenance mode: the router answers 503."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Enabling maintenance mode for {app_id}... ", {"maintenance": True})


def maintenance_off(app: str | None = None) -> None:
    """Disables maintenance mode."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Disabling maintenance mode for {app_id}... ", {"maintenance": False})


# --- routing ----------------------------------------------------------------------------------------


def routing_info(app: str | None = None, json_: bool = False) -> None:
    """Prints whether the router exposes an application."""
    _, client, app_id = app_session(app)
    data, raw = _settings(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    routable = data.get("routable")
    output.line("Routing is enabled." if routable is None or routable else "Routing is disabled.")


def routing_enable(app: str | None = None) -> None:
    """Exposes an application through the router."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Enabling routing for {app_id}... ", {"routable": True})


def routing_disable(app: str | None = None) -> None:
    """Stops exposing an application through the router."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Disabling routing for {app_id}... ", {"routable": False})


# --- whitelist --------------------------------------------------------------------------------------

def whitelist_list(app: str | None = None, json_: bool = False) -> None:
    """Lists the addresses allowed to reach an application."""
    _, client, app_id = app_session(app)
    response = client.request("GET", f"/v2/apps/{app_id}/whitelist/")
    if json_:
        output.raw_json(response.text)
        return
    data = response.json() if response.content else {}
    # `cmd/whitelist.go` prints this header with Printf and no newline: the first address follows on it.
    output.write(f"=== {app_id} Whitelisted Addresses")
    for address in data.get("addresses") or []:
        output.line(address)


def whitelist_add(addresses: str, app: str | None = None) -> None:
    """Adds addresses to an application's whitelist."""
    _, client, app_id = app_session(app)
    output.line(f"Adding {addresses} to {app_id} whitelist...")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/whitelist/", {"addresses": addresses.split(",")})
    output.line("done")


def whitelist_remove(addresses: str, app: str | None = None) -> None:
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


def labels_list(app: str | None = None, json_: bool = False) -> None:
    """Lists an application's labels."""
    _, client, app_id = app_session(app)
    data, raw = _settings(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.labels(app_id, data.get("label") or {})


def labels_set(labels: list[str], app: str | None = None) -> None:
    """Sets labels on an application."""
    _, client, app_id = app_session(app)
    body = {"label": parse_labels(labels)}
    _apply(client, app_id, f"Applying labels on {app_id}... ", body)


def labels_unset(keys: list[str], app: str | None = None) -> None:
    """Removes labels from an application."""
    _, client, app_id = app_session(app)
    _apply(client, app_id, f"Removing labels on {app_id}... ", {"label": {k: None for k in keys}})


# --- autoscale --------------------------------------------------------------------------------------

def autoscale_list(app: str | None = None, json_: bool = False) -> None:
    """Lists autoscale rules for an application."""
    _, client, app_id = app_session(app)
    data, raw = _settings(client, app_id)
    if json_:
        output.raw_json(raw)
        return
    output.autoscale(app_id, data.get("autoscale"))
    if data.get("autoscale"):
        autoscale.print_status(client, app_id)


def autoscale_set(proc_type: str, min_: int, max_: int, cpu_percent: int | None, app: str | None = None,
                  rps_per_container: int | None = None, p95_ms: int | None = None) -> None:
    """Sets an autoscale rule for a process type: CPU, requests per container and/or p95 latency."""
    _, client, app_id = app_session(app)
    rule = {"min": min_, "max": max_, "cpu_percent": cpu_percent, "rps_per_container": rps_per_container,
            "p95_ms": p95_ms}
    rule = {key: value for key, value in rule.items() if value is not None}
    _apply(
        client,
        app_id,
        f"Applying autoscale settings for process type {proc_type} on {app_id}... ",
        {"autoscale": {proc_type: rule}},
    )


def autoscale_unset(proc_type: str, app: str | None = None) -> None:
    """Removes the autoscale rule of a process type."""
    _, client, app_id = app_session(app)
    _apply(
        client,
        app_id,
        f"Removing autoscale for process type {proc_type} on {app_id}... ",
        {"autoscale": {proc_type: None}},
    )


# --- tls --------------------------------------------------------------------------------------------


def tls_info(app: str | None = None, json_: bool = False) -> None:
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


def tls_enable(app: str | None = None) -> None:
    """Makes the router redirect http requests to https."""
    _tls(app, True)


def tls_disable(app: str | None = None) -> None:
    """Stops enforcing https for an application."""
    _tls(app, False)


def _autoscale_set(a: dict) -> None:
    from cli.commands.healthchecks import _int  # the same `safeGetInt`

    def optional(key: str) -> int | None:
        return None if a.get(key) is None else _int(a[key])

    autoscale_set(a["<process-type>"], _int(a["--min"]), _int(a["--max"]), optional("--cpu-percent"), a["--app"],
                  optional("--rps-per-container"), optional("--p95-ms"))


EXTRAS = {
    name: JSON
    for name in (
        "maintenance:info",
        "routing:info",
        "whitelist:list",
        "labels:list",
        "autoscale:list",
        "tls:info",
    )
}
VALUES = {"autoscale:set": ("--rps-per-container", "--p95-ms")}
USAGE_WITH_VALUES = {"autoscale:set": autoscale_usage.SET_ON_REQUESTS}
COMMANDS = {
    "maintenance:info": lambda a: maintenance_info(a["--app"], a["--json"]),
    "maintenance:on": lambda a: maintenance_on(a["--app"]),
    "maintenance:off": lambda a: maintenance_off(a["--app"]),
    "routing:info": lambda a: routing_info(a["--app"], a["--json"]),
    "routing:enable": lambda a: routing_enable(a["--app"]),
    "routing:disable": lambda a: routing_disable(a["--app"]),
    "whitelist:add": lambda a: whitelist_add(a["<addresses>"], a["--app"]),
    "whitelist:list": lambda a: whitelist_list(a["--app"], a["--json"]),
    "whitelist:remove": lambda a: whitelist_remove(a["<addresses>"], a["--app"]),
    "labels:list": lambda a: labels_list(a["--app"], a["--json"]),
    "labels:set": lambda a: labels_set(a["<key>=<value>"], a["--app"]),
    "labels:unset": lambda a: labels_unset(a["<key>"], a["--app"]),
    "autoscale:list": lambda a: autoscale_list(a["--app"], a["--json"]),
    "autoscale:set": _autoscale_set,
    "autoscale:unset": lambda a: autoscale_unset(a["<process-type>"], a["--app"]),
    "tls:info": lambda a: tls_info(a["--app"], a["--json"]),
    "tls:enable": lambda a: tls_enable(a["--app"]),
    "tls:disable": lambda a: tls_disable(a["--app"]),
}
