"""builds:list, builds:create."""

from __future__ import annotations

import os

from cli import argv, output, progress
from cli.commands._common import JSON, app_session
from cli.errors import CLIError


def parse_procfile(text: str) -> dict[str, str]:
    """A Procfile is a YAML map of process type to command."""
    import yaml  # here: only `deis pull --procfile` reads YAML

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CLIError(f"could not parse the procfile: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CLIError("the procfile must map process types to commands, e.g. 'web: ./server'")
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def list_(app: str | None = None, limit: int | None = None, json_: bool = False) -> None:
    """Lists build history for an application."""
    _, client, app_id = app_session(app)
    builds, count, raw = client.paged(f"/v2/apps/{app_id}/builds/", limit)
    if json_:
        output.raw_json(raw)
        return
    output.write(f"=== {app_id} Builds" + output.limit_count(len(builds), count))
    for build in builds:
        output.println(build.get("uuid", ""), build.get("created", ""))


def create(image: str, app: str | None = None, procfile: str | None = None) -> None:
    """Creates a new build of an application: deploys IMAGE."""
    _, client, app_id = app_session(app)
    procfile_map: dict[str, str] = {}
    if procfile:
        procfile_map = parse_procfile(procfile)
    elif os.path.isfile("Procfile"):
        with open("Procfile", encoding="utf-8") as fh:
            procfile_map = parse_procfile(fh.read())
    body: dict = {"image": image}
    if procfile_map:
        body["procfile"] = procfile_map
    output.write("Creating build... ")
    with progress.deploying(client, app_id):
        build = client.post(f"/v2/apps/{app_id}/builds/", body) or {}
        outcome = _digest_outcome(client, app_id, build) if isinstance(build, dict) else ""
    output.line("done" + outcome)


def _digest_outcome(client, app_id: str, build: dict) -> str:
    """`, v5 (sha256:1a2b3c4d… new)`: the release the build made and whether its digest differs from the release
    before it (`unchanged`: the registry served the same content again). Empty for a controller that reports no
    digest (Deis)."""
    digest = build.get("digest")
    if not isinstance(digest, str) or not digest:
        return ""
    algorithm, _, hexdigits = digest.partition(":")
    short = f"{algorithm}:{hexdigits[:8]}\u2026"
    releases, _, _ = client.paged(f"/v2/apps/{app_id}/releases/", 2)
    mine = next((i for i, r in enumerate(releases) if r.get("build") == build.get("uuid")), None)
    if mine is None:  # another deploy came in between: no release to name
        return f" ({short})"
    previous = releases[mine + 1].get("digest") if mine + 1 < len(releases) else None
    return f", v{releases[mine].get('version', '')} ({short} {'unchanged' if previous == digest else 'new'})"


EXTRAS = {"builds:list": JSON}
COMMANDS = {
    "builds:list": lambda a: list_(a["--app"], argv.limit(a["--limit"]), a["--json"]),
    "builds:create": lambda a: create(a["<image>"], a["--app"], a["--procfile"]),
}
