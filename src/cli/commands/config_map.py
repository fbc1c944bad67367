"""The shared body of `tags:*` and `registry:*`: both list, set and unset one map inside the app's config."""

from __future__ import annotations

from cli import output
from cli.client import Client
from cli.commands._common import app_session
from cli.commands.config import fetch


class ConfigMap:
    """One map field of `/v2/apps/{id}/config/` (`tags`, `registry`) and how the CLI titles it."""

    def __init__(self, field: str, title: str, applying: str):
        self.field, self.title, self.applying = field, title, applying

    def print_list(self, client: Client, app_id: str) -> None:
        data, _ = fetch(client, app_id)
        output.line(f"=== {app_id} {self.title}")
        output.write(output.pretty_tabs(data.get(self.field) or {}, 5))

    def list(self, app: str | None, json_: bool) -> None:
        _, client, app_id = app_session(app)
        if json_:
            output.raw_json(fetch(client, app_id)[1])
            return
        self.print_list(client, app_id)

    def apply(self, app: str | None, values: dict[str, str | None]) -> None:
        """Posts the changes (None unsets a key), then lists the map as it is now."""
        _, client, app_id = app_session(app)
        output.write(f"{self.applying}... ")
        with output.spinner():
            client.post(f"/v2/apps/{app_id}/config/", {self.field: values})
        output.write("done\n\n")
        self.print_list(client, app_id)
