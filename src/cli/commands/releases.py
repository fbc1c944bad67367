"""releases:list, releases:info, releases:rollback."""

from __future__ import annotations

from cli import argv, output, progress
from cli.commands._common import JSON, app_session
from cli.errors import CLIError


def parse_version(text: str) -> int:
    """`versionFromString`: `v3` or `3`; Go's own errors for anything else."""
    if text[:1] == "v":
        if len(text) < 2:
            raise CLIError(f"{text} is not in the form 'v#'")
        return argv.go_atoi(text[1:])
    return argv.go_atoi(text)


def list_(app: str | None = None, limit: int | None = None, json_: bool = False) -> None:
    """Lists release history for an application."""
    _, client, app_id = app_session(app)
    releases, count, raw = client.paged(f"/v2/apps/{app_id}/releases/", limit)
    if json_:
        output.raw_json(raw)
        return
    output.write(f"=== {app_id} Releases" + output.limit_count(len(releases), count))
    output.write(
        output.tabwriter(
            [f"v{r.get('version', '')}", str(r.get("created", "")), str(r.get("summary", ""))] for r in releases
        )
    )


def info(version: str, app: str | None = None, json_: bool = False) -> None:
    """Prints info about a particular release."""
    number = parse_version(version)
    _, client, app_id = app_session(app)
    response = client.request("GET", f"/v2/apps/{app_id}/releases/v{number}/")
    if json_:
        output.raw_json(response.text)
        return
    r = response.json()
    output.line(f"=== {app_id} Release v{number}")
    if r.get("build"):
        output.println("build:   ", r["build"])
    if r.get("digest"):  # not in Deis: the manifest digest the release runs
        output.println("digest:  ", r["digest"])
    output.println("config:  ", r.get("config", ""))
    output.println("owner:   ", r.get("owner", ""))
    output.println("created: ", r.get("created", ""))
    output.println("summary: ", r.get("summary", ""))
    output.println("updated: ", r.get("updated", ""))
    output.println("uuid:    ", r.get("uuid", ""))
    if output.stdout_is_tty():  # not in the Workflow CLI: its calls and output stay as they are off a terminal
        try:
            events = client.get(f"/v2/apps/{app_id}/releases/v{number}/events/") or {}
        except CLIError:  # a Deis controller has no events
            events = {}
        if isinstance(events, dict) and events.get("results"):
            output.line("events:")
            for event in events["results"]:
                output.line(f"  {event.get('created', '')} {progress.event_line(event).strip()}")


def rollback(version: str | None = None, app: str | None = None) -> None:
    """Rolls back to a previous application release."""
    _, client, app_id = app_session(app)
    if version is None:
        output.write("Rolling back one release... ")
        body = None
    else:
        number = parse_version(version)
        output.write(f"Rolling back to v{number}... ")
        body = {"version": number}
    with progress.deploying(client, app_id):
        data = client.post(f"/v2/apps/{app_id}/releases/rollback/", body) or {}
    output.line(f"done, v{data.get('version', '')}")


EXTRAS = {"releases:list": JSON, "releases:info": JSON}
COMMANDS = {
    "releases:list": lambda a: list_(a["--app"], argv.limit(a["--limit"]), a["--json"]),
    "releases:info": lambda a: info(a["<version>"], a["--app"], a["--json"]),
    "releases:rollback": lambda a: rollback(a["<version>"], a["--app"]),
}
