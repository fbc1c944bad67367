"""users:list (administrators only)."""

from __future__ import annotations

from cli import argv, output
from cli.commands._common import JSON, session


def list_(limit: int | None = None, json_: bool = False) -> None:
    """Lists all registered users (requires admin)."""
    _, client = session()
    users, count, raw = client.paged("/v2/users/", limit)
    if json_:
        output.raw_json(raw)
        return
    output.write("=== Users (*=admin)" + output.limit_count(len(users), count))
    for u in users:
        output.line(("*" if u.get("is_superuser") else "") + u.get("username", ""))


EXTRAS = {"users:list": JSON}
COMMANDS = {"users:list": lambda a: list_(argv.limit(a["--limit"]), a["--json"])}
