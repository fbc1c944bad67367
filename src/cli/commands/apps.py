"""apps:create, apps:list, apps:info, apps:open, apps:logs, apps:run, apps:destroy, apps:transfer."""

from __future__ import annotations

import webbrowser
from typing import Annotated

import typer

from cli import output
from cli.client import Client
from cli.commands import domains as domains_cmd
from cli.commands import ps as ps_cmd
from cli.commands._common import AppOpt, JsonOpt, LimitOpt, Timer, app_session, session
from cli.errors import CLIError

NO_LOGS = (
    "There are currently no log messages. Please check the following things:\n"
    "1) Logger and fluentd pods are running.\n"
    "2) The application is writing logs to the logger component by checking that an entry in the ring "
    "buffer was created: kubectl logs <logger pod> --namespace=deis\n"
    "3) Making sure that the container logs were mounted properly into the fluentd pod: "
    "kubectl exec <fluentd pod> --namespace=deis ls /var/log/containers"
)


def create(
    id_: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="a uniquely identifiable name for the application.")
    ] = None,
    no_remote: Annotated[bool, typer.Option("--no-remote", help="do not create a 'deis' git remote.")] = False,
    remote: Annotated[str, typer.Option("-r", "--remote", help="name of remote to create.")] = "deis",
) -> None:
    """Creates a new application. If no ID is given, one is generated."""
    _, client = session()
    output.write("Creating Application... ")
    with output.spinner():
        app = client.post("/v2/apps/", {"id": id_} if id_ else None) or {}
    app_id = app.get("id", id_ or "")
    output.line(f"done, created {app_id}")
    # Workflow here deploys images only; there is no git remote to add either way.
    output.line(f"If you want to add a git remote for this app later, use `deis git:remote -a {app_id}`")


def list_(limit: LimitOpt = None, json_: JsonOpt = False) -> None:
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


def info(app: AppOpt = None, json_: JsonOpt = False) -> None:
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


def open_(app: AppOpt = None) -> None:
    """Opens a URL to the application in the default browser."""
    _, client, app_id = app_session(app)
    url = app_url(client, app_id)
    if not url:
        raise CLIError(f"No domain assigned to {app_id}")
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    output.line(url)
    if output.stdout_is_tty():
        webbrowser.open(url)


def logs(
    app: AppOpt = None,
    lines: Annotated[int | None, typer.Option("-n", "--lines", help="the number of lines to display")] = None,
    follow: Annotated[bool, typer.Option("-f", "--follow", help="keep printing new log lines as they arrive")] = False,
) -> None:
    """Retrieves the most recent log events."""
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
    response = client.request("GET", f"/v2/apps/{app_id}/logs", params=params or None)
    body = response.text
    if response.status_code == 204 or len(body) < 1:
        raise CLIError(NO_LOGS)
    for text in body.rstrip("\n").split("\n"):
        output.line(text)


def run(
    command: Annotated[list[str], typer.Argument(help="the shell command to run inside the container.")],
    app: AppOpt = None,
) -> None:
    """Runs a command inside an ephemeral app container."""
    _, client, app_id = app_session(app)
    text = " ".join(command)
    output.line(f"Running '{text}'...")
    result = client.post(f"/v2/apps/{app_id}/run", {"command": text}) or {}
    code = int(result.get("exit_code", 0) or 0)
    if code == 0:
        output.write(result.get("output", ""))
    else:
        output.error(result.get("output", ""))
    raise typer.Exit(code)


def destroy(
    app: AppOpt = None,
    confirm: Annotated[str, typer.Option("--confirm", help="skips the prompt for the application name.")] = "",
) -> None:
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


def transfer(
    username: Annotated[str, typer.Argument(help="the user that the app will be transferred to.")],
    app: AppOpt = None,
) -> None:
    """Transfers app ownership to another user."""
    _, client, app_id = app_session(app)
    output.write(f"Transferring {app_id} to {username}... ")
    client.post(f"/v2/apps/{app_id}/", {"owner": username})
    output.line("done")
