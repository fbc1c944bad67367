"""The client profile: `~/.deis/<name>.json`, exactly as the Workflow CLI reads and writes it.

Choice of file: `-c/--config` beats `$DEIS_PROFILE` beats `client`; a value that looks like a path to a
`.json` file is used as such, anything else names `~/.deis/<value>.json` (CLI `settings/settings.go`).
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import urlsplit, urlunsplit

from cli.errors import CLIError

DEFAULT_LIMIT = 100
_PATH_RE = re.compile(r".*[/\\].+\.json")

# Set by the root command from `-c/--config`; None means "not given".
config_option: str | None = None


def home() -> str:
    return os.environ.get("HOME") or os.path.expanduser("~")


def profile_path(config: str | None = None) -> str:
    """The file the profile lives in, per the precedence rules above."""
    value = config if config else (config_option or os.environ.get("DEIS_PROFILE") or "client")
    if _PATH_RE.fullmatch(value):
        return value
    return os.path.join(home(), ".deis", value + ".json")


def normalize_controller(url: str) -> str:
    """Default scheme http://, host lower-cased; any path is dropped, as the SDK replaces it anyway."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if not parts.netloc:
        raise CLIError(f"{url} is not a valid controller URL")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "", "", ""))


class Profile:
    # A plain class, not a dataclass: importing `dataclasses` (and `inspect` with it) costs more than the rest
    # of `deis --version`.
    def __init__(self, username: str, controller: str, token: str, ssl_verify: bool = True,
                 response_limit: int = DEFAULT_LIMIT, path: str = "") -> None:
        self.username = username
        self.controller = controller
        self.token = token
        self.ssl_verify = ssl_verify
        self.response_limit = response_limit
        self.path = path

    @property
    def limit(self) -> int:
        return self.response_limit if self.response_limit > 0 else DEFAULT_LIMIT

    def to_json(self) -> str:
        return json.dumps(
            {
                "username": self.username,
                "ssl_verify": self.ssl_verify,
                "controller": self.controller,
                "token": self.token,
                "response_limit": self.response_limit,
            },
            separators=(",", ":"),
        )


def load(config: str | None = None) -> Profile:
    path = profile_path(config)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise CLIError(
            f"Client configuration file not found at: {path}\n"
            "Are you logged in? Use 'deis login' or 'deis register' to get started."
        ) from None
    except (OSError, ValueError) as exc:
        raise CLIError(f"Could not read client configuration file {path}: {exc}") from None
    limit = data.get("response_limit") or 0
    return Profile(
        username=data.get("username", ""),
        controller=data.get("controller", ""),
        token=data.get("token", ""),
        ssl_verify=bool(data.get("ssl_verify", True)),
        response_limit=limit if isinstance(limit, int) and limit > 0 else DEFAULT_LIMIT,
        path=path,
    )


def save(profile: Profile, config: str | None = None) -> str:
    """Write the profile (dir 0700, file 0600) and return its path."""
    path = profile_path(config)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if os.path.abspath(directory) == os.path.join(os.path.abspath(home()), ".deis"):
        os.chmod(directory, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(profile.to_json())
    os.chmod(path, 0o600)
    profile.path = path
    return path


def delete(config: str | None = None) -> None:
    path = profile_path(config)
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
