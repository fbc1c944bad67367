"""Our `deis` against the Workflow CLI v2.18.0, table-driven, topic by topic.

Part 1 (help): every topic and command of the Go CLI's parser in every help form — `deis help X`,
`deis X -h`, `deis X --help` — prints the upstream text stored in tests/cli/upstream/ (copied from
deis/workflow-cli, never from our output); a usage mismatch prints the usage line on stderr.
Part 2 (commands): each command with the argv forms its usage allows (options before and after the
positionals, `=` and separate values, `--`), against respx: the requests sent and what is printed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

UPSTREAM = Path(__file__).parent / "upstream"


def _sections(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    name = None
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("##### "):
            name = line[len("##### ") :].strip()
            out[name] = ""
        elif name is not None:
            out[name] += line
    return out


TEXTS = {name: text for path in sorted(UPSTREAM.glob("*.txt")) for name, text in _sections(path).items()}
ROOT = TEXTS.pop("deis")
TOPICS = {name: text for name, text in TEXTS.items() if ":" not in name and name != "version"}
COMMANDS = {name: text for name, text in TEXTS.items() if ":" in name or name == "version"}
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


def docopt_help(text: str) -> str:
    """docopt(-go) prints the whole usage string, newlines trimmed, then one newline."""
    return text.strip("\n") + "\n"


def usage_line(text: str) -> str:
    """What docopt prints on a mismatch: the `Usage:` section."""
    match = re.search(r"^[^\n]*usage:.*?(?=\n\s*\n|\Z)", text, re.IGNORECASE | re.MULTILINE | re.DOTALL)
    assert match, text
    return match.group(0).strip() + "\n"


def test_every_topic_of_the_root_usage_is_covered():
    listed = re.findall(r"^  (\S+)\s{2,}", ROOT.split("Shortcut commands")[0], re.MULTILINE)
    topics = {name for name in listed if not name.startswith("-")} - {"register", "login", "logout"}
    # `auth` stands as "Auth commands" (register, login, logout); `shortcuts` under "Shortcut commands".
    assert topics == (set(TOPICS) | {"version"}) - {"auth", "shortcuts"}


class TestRootHelp:
    @pytest.mark.parametrize("argv", [["help"], ["-h"], ["--help"]])
    def test_root_help(self, deis, argv):
        result = deis(*argv)
        assert (result.exit_code, result.stdout, result.stderr) == (0, ROOT, "")

    def test_no_command(self, deis):
        result = deis()
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Usage: deis <command> [<args>...]\n")

    def test_unknown_command(self, deis, monkeypatch):
        monkeypatch.setenv("PATH", "/nonexistent")
        result = deis("nope", "-a", "x")
        assert result.exit_code == 1
        assert result.stderr == "Found no matching command, try 'deis help'\nUsage: deis <command> [<args>...]\n"

    def test_unknown_command_of_a_topic(self, deis):
        result = deis("apps:nope")  # parser.PrintUsage, then `return nil`: exit 0
        assert result.exit_code == 0
        assert result.stderr == "Found no matching command, try 'deis help'\nUsage: deis <command> [<args>...]\n"

    def test_shortcuts(self, deis):
        expected = "".join(f"{k} -> {SHORTCUTS[k]}\n" for k in sorted(SHORTCUTS)) + "\n"
        assert deis("shortcuts").stdout == expected
        assert deis("shortcuts:list").stdout == expected


TOPIC_FORMS = [
    pytest.param(topic, argv, id=f"{topic}:{' '.join(argv)}")
    for topic in sorted(TOPICS)
    for argv in (["help", topic], [topic, "-h"], [topic, "--help"])
] + [pytest.param(topic, [topic], id=f"{topic}:bare") for topic in ("auth", "git")]


@pytest.mark.parametrize(("topic", "argv"), TOPIC_FORMS)
def test_topic_help(deis, topic, argv):
    result = deis(*argv)
    assert (result.exit_code, result.stdout, result.stderr) == (0, TOPICS[topic], "")


COMMAND_FORMS = [
    pytest.param(name, argv, id=f"{name}:{' '.join(argv)}")
    for name in sorted(COMMANDS)
    for argv in (["help", name], [name, "-h"], [name, "--help"])
] + [
    pytest.param(target, argv, id=f"{alias}:{' '.join(argv)}")
    for alias, target in sorted(SHORTCUTS.items())
    for argv in (["help", alias], [alias, "--help"])
]


@pytest.mark.parametrize(("name", "argv"), COMMAND_FORMS)
def test_command_help(deis, name, argv):
    result = deis(*argv)
    assert (result.exit_code, result.stdout, result.stderr) == (0, docopt_help(COMMANDS[name]), "")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_usage_error(deis, name):
    """An option the usage does not know: docopt prints the usage line on stderr, exit 1."""
    result = deis(name, "--no-such-option")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", usage_line(COMMANDS[name]))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["apps:info", "-a"], "-a requires argument"),
        (["apps:info", "--app"], "--app requires argument"),
        (["apps:list", "--limit"], "--limit requires argument"),
        (["auth:whoami", "--all=yes"], "--all must not have an argument"),
    ],
)
def test_option_errors(deis, argv, message):
    result = deis(*argv)
    assert result.exit_code == 1
    assert result.stderr == message + "\n" + usage_line(COMMANDS[argv[0]])


@pytest.mark.parametrize(
    "argv",
    [
        ["apps:transfer"],
        ["builds:create"],
        ["certs:add", "a", "b"],
        ["config:set"],
        ["config:unset"],
        ["domains:add"],
        ["healthchecks:set", "liveness", "exec"],
        ["limits:set"],
        ["perms:create"],
        ["ps:scale"],
        ["releases:info"],
        ["tags:set"],
        ["whitelist:add"],
        ["keys:remove"],
        ["autoscale:set", "web", "--min=1", "--max=2"],
        ["apps:run"],
        ["apps:create", "a", "b"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_missing_or_extra_positionals(deis, argv):
    result = deis(*argv)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", usage_line(COMMANDS[argv[0]]))
