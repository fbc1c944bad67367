"""auth:register, auth:login, auth:logout, auth:whoami, auth:passwd, auth:regenerate, auth:cancel."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer

from cli import output
from cli import profile as profiles
from cli.client import Client
from cli.commands._common import session
from cli.errors import CLIError


def _bool(value: str, flag: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "t", "yes", "y"):
        return True
    if lowered in ("false", "0", "f", "no", "n"):
        return False
    raise CLIError(f"{flag} must be true or false, not {value!r}")


def _ask(label: str, flag: str) -> str:
    if not output.stdin_is_tty():
        raise CLIError(f"{flag} is required when stdin is not a terminal")
    return output.prompt(f"{label}: ")


def _ask_password(label: str, flag: str, confirm: str | None = None, mismatch: str = "") -> str:
    if not output.stdin_is_tty():
        raise CLIError(f"{flag} is required when stdin is not a terminal")
    password = output.prompt_password(f"{label}: ")
    if confirm is not None:
        output.write(f"\n{confirm}: ")
        again = output.prompt_password("")
        output.line()
        if password != again:
            raise CLIError(mismatch)
    else:
        output.line()
    return password


def _login(controller: str, username: str, password: str, ssl_verify: bool) -> None:
    client = Client(controller, ssl_verify=ssl_verify)
    client.check_connection()
    if not username:
        username = _ask("username", "--username")
    if not password:
        password = _ask_password("password", "--password")
    data = client.post("/v2/auth/login/", {"username": username, "password": password})
    token = data.get("token", "") if isinstance(data, dict) else ""
    prof = profiles.Profile(username=username, controller=client.controller, token=token, ssl_verify=ssl_verify)
    path = profiles.save(prof)
    output.line(f"Logged in as {username}")
    output.line(f"Configuration file written to {path}")


def register(
    controller: Annotated[
        str, typer.Argument(help="fully-qualified controller URI, e.g. `http://deis.local3.deisapp.com/`")
    ],
    username: Annotated[str, typer.Option("--username", help="provide a username for the new account.")] = "",
    password: Annotated[str, typer.Option("--password", help="provide a password for the new account.")] = "",
    email: Annotated[str, typer.Option("--email", help="provide an email address.")] = "",
    ssl_verify: Annotated[
        str, typer.Option("--ssl-verify", help="enables/disables SSL certificate verification for API requests")
    ] = "true",
    login: Annotated[str, typer.Option("--login", help="logs into the new account after registering.")] = "true",
) -> None:
    """Registers a new user with a Deis controller."""
    verify = _bool(ssl_verify, "--ssl-verify")
    client = Client(profiles.normalize_controller(controller), ssl_verify=verify)
    # An admin registering someone else (registration mode admin_only) sends their own token.
    try:
        current = profiles.load()
        if httpx.URL(current.controller).host == httpx.URL(client.controller).host:
            client.token = current.token
    except CLIError:
        pass
    client.check_connection()
    if not username:
        username = _ask("username", "--username")
    if not password:
        password = _ask_password(
            "password", "--password", "password (confirm)", "Password mismatch, aborting registration."
        )
    if not email:
        email = _ask("email", "--email")
    try:
        client.post("/v2/auth/register/", {"username": username, "password": password, "email": email})
    except CLIError:
        output.error("Registration failed: ")
        raise
    output.line(f"Registered {username}")
    if _bool(login, "--login"):
        _login(client.controller, username, password, verify)


def login(
    controller: Annotated[
        str, typer.Argument(help="a fully-qualified controller URI, e.g. `http://deis.local3.deisapp.com/`.")
    ],
    username: Annotated[str, typer.Option("--username", help="provide a username for the account.")] = "",
    password: Annotated[str, typer.Option("--password", help="provide a password for the account.")] = "",
    ssl_verify: Annotated[
        str, typer.Option("--ssl-verify", help="enables/disables SSL certificate verification for API requests")
    ] = "true",
) -> None:
    """Logs in by authenticating against a controller."""
    _login(profiles.normalize_controller(controller), username, password, _bool(ssl_verify, "--ssl-verify"))


def logout() -> None:
    """Logs out from a controller and clears the user session."""
    profiles.delete()
    output.line("Logged out")


def whoami(
    all_: Annotated[bool, typer.Option("--all", help="fetch a more detailed description about the user.")] = False,
) -> None:
    """Displays the currently logged in user."""
    prof, client = session()
    if all_:
        output.user(client.get("/v2/auth/whoami/") or {})
    else:
        output.line(f"You are {prof.username} at {client.controller}")


def passwd(
    username: Annotated[str, typer.Option("--username", help="the account's username.")] = "",
    password: Annotated[str, typer.Option("--password", help="the account's current password.")] = "",
    new_password: Annotated[str, typer.Option("--new-password", help="the account's new password.")] = "",
) -> None:
    """Changes the password for the current user."""
    _, client = session()
    if not password and not username:
        password = _ask_password("current password", "--password")
    if not new_password:
        new_password = _ask_password(
            "new password", "--new-password", "new password (confirm)", "Password mismatch, not changing."
        )
    body = {"new_password": new_password}
    if password:
        body["password"] = password
    if username:
        body["username"] = username
    try:
        client.post("/v2/auth/passwd/", body)
    except CLIError:
        output.error("Password change failed: ")
        raise
    output.line("Password change succeeded.")


def regenerate(
    username: Annotated[
        str, typer.Option("-u", "--username", help="specify user's token to regenerate (admins only).")
    ] = "",
    all_: Annotated[bool, typer.Option("--all", help="regenerate every user's token (admins only).")] = False,
) -> None:
    """Regenerates a user's API token."""
    prof, client = session()
    body: dict | None = None
    if all_:
        body = {"all": True}
    elif username:
        body = {"username": username}
    data = client.post("/v2/auth/tokens/", body)
    if not username and not all_:
        prof.token = data.get("token", "") if isinstance(data, dict) else ""
        profiles.save(prof)
    output.line("Token Regenerated")


def cancel(
    username: Annotated[str, typer.Option("--username", help="cancel the account of this user (admins only).")] = "",
    yes: Annotated[bool, typer.Option("--yes", help="do not prompt for confirmation.")] = False,
) -> None:
    """Cancels and removes the current account."""
    prof, client = session()
    if not yes:
        if not output.stdin_is_tty():
            raise CLIError("--yes is required when stdin is not a terminal")
        target = username or prof.username
        answer = output.prompt(f"cancel account {target} at {client.controller}? (y/N): ")
        if answer.strip().lower() != "y":
            output.error_line("Account not changed")
            return
    client.delete("/v2/auth/cancel/", {"username": username} if username else None)
    if not username or username == prof.username:
        profiles.delete()
    output.line("Account cancelled")
