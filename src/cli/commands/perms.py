"""perms:list, perms:create, perms:delete (app collaborators, or administrators with --admin)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer

from cli import output
from cli.commands._common import AppOpt, JsonOpt, LimitOpt, app_session

AdminOpt = Annotated[bool, typer.Option("--admin", help="act on system administrators instead of app collaborators.")]
UserArg = Annotated[str, typer.Argument(metavar="USERNAME", help="the user.")]


def list_(app: AppOpt = None, admin: AdminOpt = False, limit: LimitOpt = None, json_: JsonOpt = False) -> None:
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


def create(username: UserArg, app: AppOpt = None, admin: AdminOpt = False) -> None:
    """Gives a user access to an application, or makes them an administrator with --admin."""
    _, client, app_id = app_session(app)
    if admin:
        output.write(f"Adding {username} to system administrators... ")
        client.post("/v2/admin/perms/", {"username": username})
    else:
        output.write(f"Adding {username} to {app_id} collaborators... ")
        client.post(f"/v2/apps/{app_id}/perms/", {"username": username})
    output.line("done")


def delete(username: UserArg, app: AppOpt = None, admin: AdminOpt = False) -> None:
    """Revokes a user's access to an application, or their admin rights with --admin."""
    _, client, app_id = app_session(app)
    if admin:
        output.write(f"Removing {username} from system administrators... ")
        client.delete(f"/v2/admin/perms/{quote(username, safe='@+')}")
    else:
        output.write(f"Removing {username} from {app_id} collaborators... ")
        client.delete(f"/v2/apps/{app_id}/perms/{quote(username, safe='@+')}")
    output.line("done")
