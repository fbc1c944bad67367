"""What every command needs: the profile, a client, the app it is about."""

from __future__ import annotations

import os
import time

from cli import profile as profiles
from cli.client import Client
from cli.errors import CLIError

JSON = {"--json": "--json"}  # our extra: print the raw API JSON (commands that show one resource or list)


def session() -> tuple[profiles.Profile, Client]:
    """The logged-in profile and a client for its controller."""
    prof = profiles.load()
    return prof, Client.from_profile(prof)


def detect_app() -> str:
    """No `-a`: the lower-cased name of the current directory (spec §6)."""
    return os.path.basename(os.path.abspath(os.getcwd())).lower()


def app_session(app: str | None) -> tuple[profiles.Profile, Client, str]:
    prof, client = session()
    return prof, client, app or detect_app()


def drink() -> str:
    return os.environ.get("DEIS_DRINK_OF_CHOICE") or "coffee"


class Timer:
    def __init__(self) -> None:
        self.start = time.monotonic()

    @property
    def seconds(self) -> int:
        return int(time.monotonic() - self.start)


def read_file(path: str) -> str:
    """A local file's text; errors read like Go's `ioutil.ReadFile` (`open x: no such file or directory`)."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise CLIError(f"open {path}: {reason}") from None
