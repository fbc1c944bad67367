"""apps:create, apps:list, apps:info, apps:open, apps:logs, apps:run, apps:destroy, apps:transfer."""

from __future__ import annotations

import sys

from cli import argv, output
from cli.client import Client
from cli.commands import domains as domains_cmd
from cli.commands import ps as ps_cmd
from cli.commands._common import JSON, Timer, app_session, session
from cli.errors import CLIError

# controller-sdk-go `apps.ErrNoLogs`: any error answer, or a body shorter than 3 bytes.
NO_LOGS = (
    "There are currently no log messages. Please check the following things:\n"
    "1) Logger and fluentd pods are running: kubectl --namespace=deis get pods.\n"
    "2) The application is writing logs to the logger component by checking that an entry in the ring buffer "
    "was created: kubectl --namespace=deis logs <logger pod>\n"
    "3) Making sure that the container logs were mounted properly into the fluentd pod: "
    "kubectl --namespace=deis exec <fluentd pod> ls /var/log/containers\n"
    "3a) If the above command returns saying /var/log/containers cannot be found then please see the following "
    "github issue for a workaround: https://github.com/deis/logger/issues/50"
)


def create(id_: str | None = None, buildpack: str | None = None) -> None:
    """Creates a new application (a generated name when `id_` is None); a buildpack sets BUILDPACK_URL."""
    _, client = session()
    output.write("Creating Application... ")
    with output.spinner():
        app = client.post("/v2/apps/", {"id": id_} if id_ else None) or {}
    app_id = app.get("id", id_ or "")
    output.line(f"done, created {app_id}")
    if buildpack:
        client.post(f"/v2/apps/{app_id}/config/", {"values": {"BUILDPACK_URL": buildpack}})
    # Workflow here deploys images only; there is no git remote to add either way.
    output.line(f"If you want to add a git remote for this app later, use `deis git:remote -a {app_id}`")


def list_(limit: int | None = None, json_: bool = False) -> None:
    """Lists applications visible to the current user."""
    _, client = session()
    apps, count, raw = client.paged("/v2/apps/", limit)
    if json_:
        output.raw_json(raw)
        return
    output.write("=== Apps" + output.limit_count(len(apps), count))
    for app in apps:
        output.line(app.get("id", ""))


def expand_url(host: str, domain: str) -> str:
    """A bare domain (no dot) replaces the controller host's first label (`deis.example.com` →
    `APP.example.com`). A dotless controller host such as `localhost:8000` (Workflow's default platform
    domain) gets the app prefixed instead, where the Go CLI would drop the host altogether."""
    if "." in domain:
        return domain
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    if "." not in name:
        return f"{domain}.{host}"
    parts = host.split(".")
    parts[0] = domain
    return ".".join(parts)


def app_url(client: Client, app_id: str) -> str:
    domains, _, _ = client.paged(f"/v2/apps/{app_id}/domains/", 1)
    if not domains:
        return ""
    return expand_url(client.host, domains[0].get("domain", ""))


def info(app: str | None = None, json_: bool = False) -> None:
    """Prints info about the current application."""
    _, client, app_id = app_session(app)
    response = client.request("GET", f"/v2/apps/{app_id}/")
    if json_:
        output.raw_json(response.text)
        return
    data = response.json()
    url = app_url(client, app_id) or f"No domain assigned to {app_id}"
    output.line(f"=== {data.get('id', app_id)} Application")
    output.println("updated: ", data.get("updated", ""))
    output.println("uuid:    ", data.get("uuid", ""))
    output.println("created: ", data.get("created", ""))
    output.println("url:     ", url)
    output.println("owner:   ", data.get("owner", ""))
    output.println("id:      ", data.get("id", ""))
    output.line()
    ps_cmd.print_list(client, app_id)
    output.line()
    domains_cmd.print_list(client, app_id)
    output.line()
    settings = client.get(f"/v2/apps/{app_id}/settings/") or {}
    output.labels(app_id, settings.get("label") or {})
    output.line()


def opener() -> str:
    """`pkg/webbrowser`: `open` on macOS, `xdg-open` elsewhere."""
    return "open" if sys.platform == "darwin" else "xdg-open"


def open_(app: str | None = None) -> None:
    """Opens a URL to the application in the default browser (started, not waited for, as Go's Start)."""
    _, client, app_id = app_session(app)
    url = app_url(client, app_id)
    if not url:
        raise CLIError(f"No domain assigned to {app_id}")
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    import shutil
    import subprocess

    command = opener()
    path = shutil.which(command)
    if path is None:
        raise CLIError(f'exec: "{command}": executable file not found in $PATH')
    subprocess.Popen([path, url], stdin=subprocess.DEVNULL)


def logs(app: str | None = None, lines: int | None = None, follow: bool = False) -> None:
    """Retrieves the most recent log events; `follow` (our extra) keeps printing them as they arrive."""
    _, client, app_id = app_session(app)
    params: dict = {}
    if lines is not None and lines > 0:
        params["log_lines"] = lines
    if follow:
        params["follow"] = "true"
        try:
            for text in client.stream_lines(f"/v2/apps/{app_id}/logs", params):
                output.line(text)
        except KeyboardInterrupt:
            pass
        return
    try:
        response = client.request("GET", f"/v2/apps/{app_id}/logs", params=params or None)
    except CLIError:  # the SDK turns every failed request into ErrNoLogs
        raise CLIError(NO_LOGS) from None
    body = response.text
    if response.status_code == 204 or len(response.content) < 3:
        raise CLIError(NO_LOGS)
    for text in body.rstrip("\n").split("\n"):
        output.line(text)


def run(command: list[str], app: str | None = None) -> int:
    """Runs a command inside an ephemeral app container; exits with the command's exit code."""
    _, client, app_id = app_session(app)
    text = " ".join(command)
    output.line(f"Running '{text}'...")
    result = client.post(f"/v2/apps/{app_id}/run", {"command": text}) or {}
    code = int(result.get("exit_code", 0) or 0)
    if code == 0:
        output.write(result.get("output", ""))
    else:
        output.error(result.get("output", ""))
    return code


def destroy(app: str | None = None, confirm: str | None = None) -> None:
    """Destroys an application."""
    _, client, app_id = app_session(app)
    if not confirm:
        if not output.stdin_is_tty():
            raise CLIError(f"--confirm={app_id} is required when stdin is not a terminal")
        output.write(
            " !    WARNING: Potentially Destructive Action\n"
            f" !    This command will destroy the application: {app_id}\n"
            f' !    To proceed, type "{app_id}" or re-run this command with --confirm={app_id}\n\n> '
        )
        confirm = output.prompt("").strip()
    if confirm != app_id:
        raise CLIError(f"App {app_id} does not match confirm {confirm}, aborting.")
    timer = Timer()
    output.line(f"Destroying {app_id}...")
    client.delete(f"/v2/apps/{app_id}/")
    output.line(f"done in {timer.seconds}s")


def transfer(username: str, app: str | None = None) -> None:
    """Transfers app ownership to another user."""
    _, client, app_id = app_session(app)
    output.write(f"Transferring {app_id} to {username}... ")
    client.post(f"/v2/apps/{app_id}/", {"owner": username})
    output.line("done")


def _lines(value: str | None) -> int | None:
    return None if value is None else argv.go_atoi(value)


EXTRAS = {"apps:list": JSON, "apps:info": JSON, "apps:logs": {"-f": "--follow", "--follow": "--follow"}}
COMMANDS = {
    "apps:create": lambda a: create(a["<id>"], a["--buildpack"]),
    "apps:list": lambda a: list_(argv.limit(a["--limit"]), a["--json"]),
    "apps:info": lambda a: info(a["--app"], a["--json"]),
    "apps:open": lambda a: open_(a["--app"]),
    "apps:logs": lambda a: logs(a["--app"], _lines(a["--lines"]), a["--follow"]),
    "apps:run": lambda a: run(a["<command>"], a["--app"]),
    "apps:destroy": lambda a: destroy(a["--app"], a["--confirm"]),
    "apps:transfer": lambda a: transfer(a["<username>"], a["--app"]),
}
