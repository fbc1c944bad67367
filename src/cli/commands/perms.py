"""perms:list, perms:create, perms:delete (app collaborators, or administrators with --admin)."""

from __future__ import annotations

from urllib.parse import quote

from cli import argv, output
from cli.commands._common import JSON, app_session


def list_(app: str | None = None, admin: bool = False, limit: int | None = None, json_: bool = False) -> None:
    """Lists an application's collaborators, or the administrators with --admin."""
    _, client, app_id = app_session(app)
    if admin:
        users, count, raw = client.paged("/v2/admin/perms/", limit)
        if json_:
            output.raw_json(raw)
            return
        output.write("=== Administrators" + output.limit_count(len(users), count))
        for u in users:
            output.line(u.get("username", "") if isinstance(u, dict) else str(u))
        return
    response = client.request("GET", f"/v2/apps/{app_id}/perms/")
    if json_:
        output.raw_json(response.text)
        return
    data = response.json() if response.content else {}
    output.line(f"=== {app_id}'s Users")
    for u in data.get("users") or []:
        output.line(u)


def create(username: str, app: str | None = None, admin: bool = False) -> None:
    """Gives a user access to an application, or makes them an administrator with --admin."""
    _, client, app_id = app_session(app)
    if admin:
        output.write(f"Adding {username} to system administrators... ")
        client.post("/v2/admin/perms/", {"username": username})
    else:
        output.write(f"Adding {username} to {app_id} collaborators... ")
        client.post(f"/v2/apps/{app_id}/perms/", {"username": username})
    output.line("done")


def delete(username: str, app: str | None = None, admin: bool = False) -> None:
    """Revokes a user's access to an application, or their admin rights with --admin."""
    _, client, app_id = app_session(app)
    if admin:
        output.write(f"Removing {username} from system administrators... ")
        client.delete(f"/v2/admin/perms/{quote(username, safe='@+')}")
    else:
        output.write(f"Removing {username} from {app_id} collaborators... ")
        client.delete(f"/v2/apps/{app_id}/perms/{quote(username, safe='@+')}")
    output.line("done")


EXTRAS = {"perms:list": JSON}
COMMANDS = {
    "perms:list": lambda a: list_(a["--app"], a["--admin"], argv.limit(a["--limit"]), a["--json"]),
    "perms:create": lambda a: create(a["<username>"], a["--app"], a["--admin"]),
    "perms:delete": lambda a: delete(a["<username>"], a["--app"], a["--admin"]),
}
