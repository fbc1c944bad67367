"""version, shortcuts:list."""

from __future__ import annotations

from cli import __version__, output
from cli.argv import SHORTCUTS


def version(all_: bool = False) -> None:
    """Prints the CLI version; with `all_`, the API versions of client and controller too."""
    if not all_:
        output.line(__version__)
        return
    from cli import client
    from cli import profile as profiles

    output.line(f"Workflow CLI Version:            {__version__}")
    output.line(f"Workflow CLI API Version:        {client.API_VERSION}")
    prof = profiles.load()
    response = client.Client.from_profile(prof).raw("GET", "/healthz", auth=False)
    output.line(f"Workflow Controller API Version: {response.headers.get('DEIS_API_VERSION', '')}")


def shortcuts() -> None:
    """`cmd/shortcuts.go`: `alias -> command` lines, sorted, then the blank line of its Println."""
    output.line("".join(f"{alias} -> {SHORTCUTS[alias]}\n" for alias in sorted(SHORTCUTS)))


EXTRAS: dict = {}
COMMANDS = {
    "version": lambda a: version(a["--all"]),
    "shortcuts:list": lambda a: shortcuts(),
}
