"""auth:register, auth:login, auth:logout, auth:whoami, auth:passwd, auth:regenerate, auth:cancel."""

from __future__ import annotations

from urllib.parse import urlsplit

from cli import output
from cli import profile as profiles
from cli.client import Client
from cli.commands._common import session
from cli.errors import CLIError


def _false(value: str | None) -> bool:
    """The Go CLI's `--login`/`--ssl-verify` test: only the word `false` turns them off."""
    return value == "false"


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
    controller: str, username: str = "", password: str = "", email: str = "", verify: bool = True, login: bool = True
) -> None:
    """Registers a new user with a Deis controller."""
    client = Client(profiles.normalize_controller(controller), ssl_verify=verify)
    # An admin registering someone else (registration mode admin_only) sends their own token.
    try:
        current = profiles.load()
        if urlsplit(current.controller).hostname == urlsplit(client.controller).hostname:
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
    if login:
        _login(client.controller, username, password, verify)


def login(controller: str, username: str = "", password: str = "", verify: bool = True) -> None:
    """Logs in by authenticating against a controller."""
    _login(profiles.normalize_controller(controller), username, password, verify)


def logout() -> None:
    """Logs out from a controller and clears the user session."""
    profiles.delete()
    output.line("Logged out")


def whoami(all_: bool = False) -> None:
    """Displays the currently logged in user."""
    prof, client = session()
    if all_:
        output.user(client.get("/v2/auth/whoami/") or {})
    else:
        output.line(f"You are {prof.username} at {client.controller}")


def passwd(username: str = "", password: str = "", new_password: str = "") -> None:
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


def regenerate(username: str = "", all_: bool = False) -> None:
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


def cancel(username: str = "", password: str = "", yes: bool = False) -> None:
    """Cancels and removes an account: without a username, or with a password, it first logs in again
    (`deis auth:cancel --username=U --password=P --yes` logs in as U, then cancels U), as `cmd/auth.go`."""
    prof, client = session()
    if not username or password:
        output.line("Please log in again in order to cancel this account")
        _login(client.controller, username, password, prof.ssl_verify)
        prof, client = session()
    if not yes:
        if not output.stdin_is_tty():
            raise CLIError("--yes is required when stdin is not a terminal")
        target = username or prof.username
        answer = output.prompt(f"cancel account {target} at {client.controller}? (y/N): ")
        if answer.strip().lower() != "y":
            output.error_line("Account not changed")
            return
    try:
        client.delete("/v2/auth/cancel/", {"username": username} if username else None)
    except CLIError as exc:
        if exc.message.startswith("Unknown Error (409)"):
            raise CLIError(
                f"{username} still has applications associated with it. Transfer ownership or delete them first"
            ) from None
        raise
    if not username or username == prof.username:
        profiles.delete()
    output.line("Account cancelled")


def _str(value: str | None) -> str:
    return value or ""


EXTRAS: dict = {}
COMMANDS = {
    "auth:register": lambda a: register(
        a["<controller>"],
        _str(a["--username"]),
        _str(a["--password"]),
        _str(a["--email"]),
        not _false(a["--ssl-verify"]),
        not _false(a["--login"]),
    ),
    "auth:login": lambda a: login(
        a["<controller>"], _str(a["--username"]), _str(a["--password"]), not _false(a["--ssl-verify"])
    ),
    "auth:logout": lambda a: logout(),
    "auth:passwd": lambda a: passwd(_str(a["--username"]), _str(a["--password"]), _str(a["--new-password"])),
    "auth:whoami": lambda a: whoami(a["--all"]),
    "auth:cancel": lambda a: cancel(_str(a["--username"]), _str(a["--password"]), a["--yes"]),
    "auth:regenerate": lambda a: regenerate(_str(a["--username"]), a["--all"]),
}
