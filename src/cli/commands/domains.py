"""domains:list, domains:add, domains:remove."""

from __future__ import annotations

from urllib.parse import quote

from cli import argv, output
from cli.client import Client
from cli.commands._common import JSON, app_session


def print_list(client: Client, app_id: str, limit: int | None = None) -> None:
    domains, count, _ = client.paged(f"/v2/apps/{app_id}/domains/", limit)
    output.write(f"=== {app_id} Domains" + output.limit_count(len(domains), count))
    for d in domains:
        output.line(d.get("domain", ""))


def list_(app: str | None = None, limit: int | None = None, json_: bool = False) -> None:
    """Lists domains bound to an application."""
    _, client, app_id = app_session(app)
    if json_:
        _, _, raw = client.paged(f"/v2/apps/{app_id}/domains/", limit)
        output.raw_json(raw)
        return
    print_list(client, app_id, limit)


def add(domain: str, app: str | None = None) -> None:
    """Binds a domain to an application."""
    _, client, app_id = app_session(app)
    output.write(f"Adding {domain} to {app_id}... ")
    with output.spinner():
        client.post(f"/v2/apps/{app_id}/domains/", {"domain": domain})
    output.line("done")


def remove(domain: str, app: str | None = None) -> None:
    """Unbinds a domain from an application."""
    _, client, app_id = app_session(app)
    output.write(f"Removing {domain} from {app_id}... ")
    with output.spinner():
        client.delete(f"/v2/apps/{app_id}/domains/{quote(domain, safe='*')}")
    output.line("done")


EXTRAS = {"domains:list": JSON}
COMMANDS = {
    "domains:add": lambda a: add(a["<domain>"], a["--app"]),
    "domains:list": lambda a: list_(a["--app"], argv.limit(a["--limit"]), a["--json"]),
    "domains:remove": lambda a: remove(a["<domain>"], a["--app"]),
}
