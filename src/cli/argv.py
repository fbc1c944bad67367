"""How `deis` reads its argv, as the Workflow CLI does (`deis.go`, `parser/*.go`, docopt).

1. `route` rearranges the words like `deis.go parseArgs`: `deis -h` → `help`, `deis -v` → `version`,
   `deis help X …` → `X … --help`, shortcuts expanded (`create` → `apps:create`); the topic is the part
   before `:`.
2. `-c NAME` / `--config=NAME` is taken out wherever it stands (`getConfigFlag`/`removeConfigFlag`), but
   only before a `--`: what follows `--` is passed through verbatim. Taken out first, so that it may also
   stand before the command (`deis -c NAME apps`), and `--config NAME` works too.
3. `take_extras` takes out our own flags the Go CLI lacks (`--json`, `logs -f`), again only before `--`.
4. `parse` hands the rest to docopt with the command's upstream usage string: options anywhere, a
   positional list ends at `--`, `-h/--help` prints the usage string, a mismatch prints `Usage: …`.
"""

from __future__ import annotations

from collections.abc import Mapping

from cli.errors import CLIError

# `cli/cli.go` Shortcuts of v2.18.0 (`deis shortcuts` prints them sorted).
SHORTCUTS = {
    "create": "apps:create",
    "destroy": "apps:destroy",
    "info": "apps:info",
    "login": "auth:login",
    "logout": "auth:logout",
    "logs": "apps:logs",
    "open": "apps:open",
    "passwd": "auth:passwd",
    "pull": "builds:create",
    "register": "auth:register",
    "rollback": "releases:rollback",
    "run": "apps:run",
    "scale": "ps:scale",
    "sharing": "perms:list",
    "sharing:list": "perms:list",
    "sharing:add": "perms:create",
    "sharing:remove": "perms:delete",
    "whoami": "auth:whoami",
}

HELP_FLAGS = ("-h", "--help")


class Exit(Exception):
    """docopt's verdict before any command ran: help printed (code 0) or a usage error (code 1)."""

    def __init__(self, code: int, message: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message


def route(argv: list[str]) -> tuple[str, list[str]]:
    """(topic, argv) as `parseArgs` makes them; argv[0] is the expanded command name."""
    argv = list(argv)
    if len(argv) == 1:
        if argv[0] in HELP_FLAGS:
            argv[0] = "help"
        elif argv[0] in ("-v", "--version"):
            argv[0] = "version"
    if len(argv) > 1 and argv[0] in ("help", *HELP_FLAGS):
        argv = [*argv[1:], "--help"]
    if not argv:
        return "", argv
    argv[0] = SHORTCUTS.get(argv[0], argv[0])
    return argv[0].split(":", 1)[0], argv


def _options_end(argv: list[str]) -> int:
    return argv.index("--") if "--" in argv else len(argv)


def take_config(argv: list[str]) -> tuple[str | None, list[str]]:
    """The `-c NAME` / `--config=NAME` value (None: not given) and argv without it."""
    end = _options_end(argv)
    value: str | None = None
    kept: list[str] = []
    i = 0
    while i < end:
        arg = argv[i]
        if arg.startswith("--config="):
            value = arg[len("--config=") :]
        elif arg in ("-c", "--config"):
            if i + 1 < end:
                value = argv[i + 1]
            i += 1
        else:
            kept.append(arg)
        i += 1
    return value, kept + argv[end:]


def take_values(argv: list[str], spellings: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Our valued options beyond the Go CLI's (`--p95-ms=300` or `--p95-ms 300`), taken out before docopt sees
    argv, so that the upstream usage string stays the parser of everything else."""
    end = _options_end(argv)
    found: dict[str, str] = {}
    kept = []
    i = 0
    while i < end:
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in spellings and eq:
            found[name] = value
        elif arg in spellings and i + 1 < end:
            found[arg] = argv[i + 1]
            i += 1
        else:
            kept.append(arg)
        i += 1
    return found, kept + argv[end:]


def take_extras(argv: list[str], extras: Mapping[str, str]) -> tuple[dict[str, bool], list[str]]:
    """Our flags beyond the Go CLI's (`extras`: spelling → key), taken out before docopt sees argv."""
    end = _options_end(argv)
    found = {key: False for key in extras.values()}
    kept = []
    for arg in argv[:end]:
        if arg in extras:
            found[extras[arg]] = True
        else:
            kept.append(arg)
    return found, kept + argv[end:]


def parse(doc: str, argv: list[str]) -> dict:
    """docopt with the upstream usage string (docopt-go is a port of this same docopt 0.6)."""
    import docopt  # imported here: `deis --version` never needs it

    try:
        return dict(docopt.docopt(doc, argv, help=True))
    except docopt.DocoptExit as exc:
        raise Exit(1, str(exc)) from None
    except SystemExit as exc:  # docopt printed the help text
        raise Exit(0 if exc.code is None else 1, "" if exc.code is None else str(exc.code)) from None


def go_atoi(text: str) -> int:
    """Go's `strconv.Atoi`, with its error text."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise CLIError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise CLIError(f'strconv.Atoi: parsing "{text}": value out of range')
    return value


def limit(value: str | None) -> int | None:
    """`responseLimit`: absent → the profile's limit (None here)."""
    return None if value is None else go_atoi(value)
