"""Our `deis` against the Workflow CLI v2.18.0, table-driven, topic by topic.

Part 1 (help): every topic and command of the Go CLI's parser in every help form — `deis help X`,
`deis X -h`, `deis X --help` — prints the upstream text stored in tests/cli/upstream/ (copied from
deis/workflow-cli, never from our output); a usage mismatch prints the usage line on stderr.
Part 2 (commands): each command with the argv forms its usage allows (options before and after the
positionals, `=` and separate values, `--`), against respx: the requests sent and what is printed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.conftest import page, reply, sent_json

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

    def test_topic_help_flag_after_an_unknown_command(self, deis):
        """`printHelp` looks at argv[1] only; `auth` and `git` have no printHelp at all."""
        assert deis("apps:nope", "-h").stdout == TOPICS["apps"]
        result = deis("auth:nope", "-h")
        assert (result.exit_code, result.stdout) == (0, "")
        assert result.stderr.startswith("Found no matching command")

    def test_version_with_a_suffix(self, deis):
        result = deis("version:x")
        assert (result.exit_code, result.stderr) == (1, usage_line(COMMANDS["version"]))

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


# --- part 2: the commands -----------------------------------------------------------------------------

CONFIG = {
    "uuid": "c",
    "app": "foo",
    "owner": "bob",
    "values": {"A": "1"},
    "memory": {"web": "1G"},
    "cpu": {},
    "tags": {"rack": "1"},
    "registry": {"username": "bob"},
    "healthcheck": {},
    "created": "C",
    "updated": "U",
}
CONFIG_LIST = "=== foo Config\nA      1\n"
LIMITS = "=== foo Limits\n\n--- Memory\nweb     1G\n\n--- CPU\nUnlimited\n"
HEALTH = (
    "=== foo Healthchecks\n\nweb/cmd:\n--- Liveness\nNo liveness probe configured.\n"
    "\n--- Readiness\nNo readiness probe configured.\n"
)
POD = {"name": "foo-web-1234567890-abcde", "state": "up", "type": "web", "release": "v2", "started": "S"}
PS = "=== foo Processes\n--- web:\nfoo-web-1234567890-abcde up (v2)\n"
RELEASE = {
    "uuid": "r",
    "app": "foo",
    "version": 1,
    "owner": "bob",
    "build": None,
    "config": "c",
    "summary": "s",
    "created": "C",
    "updated": "U",
}
SETTINGS = {
    "uuid": "s",
    "app": "foo",
    "owner": "bob",
    "maintenance": True,
    "routable": False,
    "whitelist": ["1.2.3.4"],
    "autoscale": {},
    "label": {"team": "web"},
    "created": "C",
    "updated": "U",
}
KEY_FILE = ("id_x.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyFakeKeyFakeKeyFakeKeyFakeKeyFake bob@laptop")
CERT = {
    "name": "www",
    "owner": "bob",
    "common_name": "www.x.org",
    "fingerprint": "AB",
    "expires": None,
    "starts": None,
    "issuer": "ca",
    "subject": "s",
    "san": [],
    "domains": [],
    "created": None,
    "updated": None,
}

# A case: argv; the controller's answers {(method, path): (status, body)}; the requests we must send, in
# order, as (method, path?query, JSON body); stdout (None: not compared); stderr; exit code; local files.
CASES: dict[str, dict] = {
    # apps
    "create --no-remote": dict(
        argv=["create", "foo", "--no-remote"],
        answers={("POST", "/v2/apps/"): (201, {"id": "foo"})},
        calls=[("POST", "/v2/apps/", {"id": "foo"})],
        stdout="Creating Application... done, created foo\n"
        "If you want to add a git remote for this app later, use `deis git:remote -a foo`\n",
    ),
    "apps:create --buildpack before id": dict(
        argv=["apps:create", "--no-remote", "-b", "https://bp.io/x", "foo"],
        answers={("POST", "/v2/apps/"): (201, {"id": "foo"}), ("POST", "/v2/apps/foo/config/"): (201, CONFIG)},
        calls=[
            ("POST", "/v2/apps/", {"id": "foo"}),
            ("POST", "/v2/apps/foo/config/", {"values": {"BUILDPACK_URL": "https://bp.io/x"}}),
        ],
        stdout="Creating Application... done, created foo\n"
        "If you want to add a git remote for this app later, use `deis git:remote -a foo`\n",
    ),
    "create --buildpack= after id": dict(
        argv=["create", "foo", "--buildpack=https://bp.io/x", "--no-remote"],
        answers={("POST", "/v2/apps/"): (201, {"id": "foo"}), ("POST", "/v2/apps/foo/config/"): (201, CONFIG)},
        calls=[
            ("POST", "/v2/apps/", {"id": "foo"}),
            ("POST", "/v2/apps/foo/config/", {"values": {"BUILDPACK_URL": "https://bp.io/x"}}),
        ],
        stdout=None,
    ),
    "apps:list -l": dict(
        argv=["apps:list", "-l", "1"],
        answers={("GET", "/v2/apps/"): (200, page([{"id": "a"}], count=2))},
        calls=[("GET", "/v2/apps/?limit=1", None)],
        stdout="=== Apps (1 of 2)\na\n",
    ),
    "apps --limit=": dict(
        argv=["apps", "--limit=5"],
        answers={("GET", "/v2/apps/"): (200, page([{"id": "a"}]))},
        calls=[("GET", "/v2/apps/?limit=5", None)],
        stdout="=== Apps\na\n",
    ),
    "apps:list bad limit": dict(
        argv=["apps:list", "-l", "x"],
        answers={},
        calls=[],
        stdout="",
        stderr='Error: strconv.Atoi: parsing "x": invalid syntax\n',
        code=1,
    ),
    "logs -a -n": dict(
        argv=["logs", "-a", "foo", "-n", "2"],
        answers={("GET", "/v2/apps/foo/logs"): (200, "l1\nl2\n")},
        calls=[("GET", "/v2/apps/foo/logs?log_lines=2", None)],
        stdout="l1\nl2\n",
    ),
    "apps:logs --lines= -a after": dict(
        argv=["apps:logs", "--lines=3", "--app=foo"],
        answers={("GET", "/v2/apps/foo/logs"): (200, "l1\n")},
        calls=[("GET", "/v2/apps/foo/logs?log_lines=3", None)],
        stdout="l1\n",
    ),
    "logs of a missing app": dict(
        argv=["logs", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/logs"): (404, "Not found.")},
        calls=[("GET", "/v2/apps/foo/logs", None)],
        stdout="",
        stderr="Error: There are currently no log messages. Please check the following things:\n"
        "1) Logger and fluentd pods are running: kubectl --namespace=deis get pods.\n"
        "2) The application is writing logs to the logger component by checking that an entry in the ring buffer "
        "was created: kubectl --namespace=deis logs <logger pod>\n"
        "3) Making sure that the container logs were mounted properly into the fluentd pod: "
        "kubectl --namespace=deis exec <fluentd pod> ls /var/log/containers\n"
        "3a) If the above command returns saying /var/log/containers cannot be found then please see the "
        "following github issue for a workaround: https://github.com/deis/logger/issues/50\n",
        code=1,
    ),
    "run CMD -a APP: -a is ours": dict(
        argv=["run", "env", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/run"): (200, {"exit_code": 0, "output": "X=1\n"})},
        calls=[("POST", "/v2/apps/foo/run", {"command": "env"})],
        stdout="Running 'env'...\nX=1\n",
    ),
    "run -- CMD -a APP: verbatim after --": dict(
        argv=["run", "--", "env", "-a", "foo"],
        answers={("POST", "/v2/apps/myapp/run"): (200, {"exit_code": 0, "output": ""})},
        calls=[("POST", "/v2/apps/myapp/run", {"command": "env -a foo"})],
        stdout="Running 'env -a foo'...\n",
    ),
    "apps:run -a APP -- CMD with flags": dict(
        argv=["apps:run", "-a", "foo", "--", "ls", "-la", "--json", "-c", "x"],
        answers={("POST", "/v2/apps/foo/run"): (200, {"exit_code": 2, "output": "err\n"})},
        calls=[("POST", "/v2/apps/foo/run", {"command": "ls -la --json -c x"})],
        stdout="Running 'ls -la --json -c x'...\n",
        stderr="err\n",
        code=2,
    ),
    "run -- CMD -h: no help after --": dict(
        argv=["run", "--", "ls", "-h", "--help"],
        answers={("POST", "/v2/apps/myapp/run"): (200, {"exit_code": 0, "output": ""})},
        calls=[("POST", "/v2/apps/myapp/run", {"command": "ls -h --help"})],
        stdout="Running 'ls -h --help'...\n",
    ),
    "run with an unknown flag before --": dict(
        argv=["run", "ls", "-la"],
        answers={},
        calls=[],
        stdout="",
        stderr="-a requires argument\nUsage: deis apps:run [options] [--] <command>...\n",
        code=1,
    ),
    "run with an unknown option before --": dict(
        argv=["run", "ls", "-x"],
        answers={},
        calls=[],
        stdout="",
        stderr="Usage: deis apps:run [options] [--] <command>...\n",
        code=1,
    ),
    "destroy --confirm": dict(
        argv=["destroy", "--confirm", "foo", "-a", "foo"],
        answers={("DELETE", "/v2/apps/foo/"): (204, None)},
        calls=[("DELETE", "/v2/apps/foo/", None)],
        stdout="Destroying foo...\ndone in 0s\n",
    ),
    "apps:destroy --app= --confirm=": dict(
        argv=["apps:destroy", "--app=foo", "--confirm=foo"],
        answers={("DELETE", "/v2/apps/foo/"): (204, None)},
        calls=[("DELETE", "/v2/apps/foo/", None)],
        stdout="Destroying foo...\ndone in 0s\n",
    ),
    "apps:transfer USER -a": dict(
        argv=["apps:transfer", "carol", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/"): (200, APP_BODY := {"id": "foo"})},
        calls=[("POST", "/v2/apps/foo/", {"owner": "carol"})],
        stdout="Transferring foo to carol... done\n",
    ),
    "apps:transfer -a USER": dict(
        argv=["apps:transfer", "-a", "foo", "carol"],
        answers={("POST", "/v2/apps/foo/"): (200, APP_BODY)},
        calls=[("POST", "/v2/apps/foo/", {"owner": "carol"})],
        stdout="Transferring foo to carol... done\n",
    ),
    # auth
    "whoami": dict(argv=["whoami"], answers={}, calls=[], stdout="You are bob at http://deis.example.com\n"),
    "auth:regenerate -u": dict(
        argv=["auth:regenerate", "-u", "carol"],
        answers={("POST", "/v2/auth/tokens/"): (200, {"token": "t"})},
        calls=[("POST", "/v2/auth/tokens/", {"username": "carol"})],
        stdout="Token Regenerated\n",
    ),
    "auth:passwd options": dict(
        argv=["auth:passwd", "--new-password=n", "--password", "o"],
        answers={("POST", "/v2/auth/passwd/"): (200, {})},
        calls=[("POST", "/v2/auth/passwd/", {"new_password": "n", "password": "o"})],
        stdout="Password change succeeded.\n",
    ),
    "auth:cancel --username --password --yes": dict(
        argv=["auth:cancel", "--username=carol", "--password=pw", "--yes"],
        answers={
            ("GET", "/v2/"): (401, {}),
            ("POST", "/v2/auth/login/"): (200, {"token": "t2"}),
            ("DELETE", "/v2/auth/cancel/"): (204, None),
        },
        calls=[
            ("GET", "/v2/", None),
            ("POST", "/v2/auth/login/", {"username": "carol", "password": "pw"}),
            ("DELETE", "/v2/auth/cancel/", {"username": "carol"}),
        ],
        stdout=None,
    ),
    "logout": dict(argv=["logout"], answers={}, calls=[], stdout="Logged out\n"),
    "register CONTROLLER options --login=false": dict(
        argv=[
            "register",
            "http://deis.example.com",
            "--username=carol",
            "--password",
            "pw",
            "--email=c@x.io",
            "--login=false",
        ],
        answers={("GET", "/v2/"): (401, {}), ("POST", "/v2/auth/register/"): (201, {"username": "carol"})},
        calls=[
            ("GET", "/v2/", None),
            ("POST", "/v2/auth/register/", {"username": "carol", "password": "pw", "email": "c@x.io"}),
        ],
        stdout="Registered carol\n",
    ),
    "login options CONTROLLER": dict(
        argv=["login", "--username=bob", "--password=pw", "http://deis.example.com"],
        answers={("GET", "/v2/"): (401, {}), ("POST", "/v2/auth/login/"): (200, {"token": "t"})},
        calls=[("GET", "/v2/", None), ("POST", "/v2/auth/login/", {"username": "bob", "password": "pw"})],
        stdout=None,
    ),
    # builds
    "pull IMAGE -a": dict(
        argv=["pull", "nginx:1", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/builds/"): (201, {})},
        calls=[("POST", "/v2/apps/foo/builds/", {"image": "nginx:1"})],
        stdout="Creating build... done\n",
    ),
    "builds:create -a -p IMAGE": dict(
        argv=["builds:create", "-a", "foo", "-p", "web: ./x", "nginx:1"],
        answers={("POST", "/v2/apps/foo/builds/"): (201, {})},
        calls=[("POST", "/v2/apps/foo/builds/", {"image": "nginx:1", "procfile": {"web": "./x"}})],
        stdout="Creating build... done\n",
    ),
    "builds -l": dict(
        argv=["builds", "-l", "1", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/builds/"): (200, page([{"uuid": "b", "created": "C"}]))},
        calls=[("GET", "/v2/apps/foo/builds/?limit=1", None)],
        stdout="=== foo Builds\nb C\n",
    ),
    # certs
    "certs:add NAME CERT KEY": dict(
        argv=["certs:add", "www", "c.pem", "k.pem"],
        files={"c.pem": "CERT", "k.pem": "KEY"},
        answers={("POST", "/v2/certs/"): (201, CERT)},
        calls=[("POST", "/v2/certs/", {"name": "www", "certificate": "CERT", "key": "KEY"})],
        stdout="Adding SSL endpoint... done\n",
    ),
    "certs:add with a missing file": dict(
        argv=["certs:add", "www", "missing.cert", "k.pem"],
        files={"k.pem": "KEY"},
        answers={},
        calls=[],
        stdout="Adding SSL endpoint... ",
        stderr="Error: open missing.cert: no such file or directory\n",
        code=1,
    ),
    "certs:remove": dict(
        argv=["certs:remove", "www"],
        answers={("DELETE", "/v2/certs/www"): (204, None)},
        calls=[("DELETE", "/v2/certs/www", None)],
        stdout="Removing www... done\n",
    ),
    "certs:attach": dict(
        argv=["certs:attach", "www", "www.x.org"],
        answers={("POST", "/v2/certs/www/domain/"): (201, {})},
        calls=[("POST", "/v2/certs/www/domain/", {"domain": "www.x.org"})],
        stdout="Attaching certificate www to domain www.x.org... done\n",
    ),
    "certs:detach": dict(
        argv=["certs:detach", "www", "www.x.org"],
        answers={("DELETE", "/v2/certs/www/domain/www.x.org"): (204, None)},
        calls=[("DELETE", "/v2/certs/www/domain/www.x.org", None)],
        stdout="Detaching certificate www from domain www.x.org... done\n",
    ),
    "certs -l": dict(
        argv=["certs", "-l", "3"],
        answers={("GET", "/v2/certs/"): (200, page([]))},
        calls=[("GET", "/v2/certs/?limit=3", None)],
        stdout="No certs\n",
    ),
    # config
    "config --oneline -a": dict(
        argv=["config", "--oneline", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("GET", "/v2/apps/foo/config/", None)],
        stdout="A=1\n",
    ),
    "config:set -a before vars": dict(
        argv=["config:set", "-a", "foo", "A=1", "B=x y"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            ("POST", "/v2/apps/foo/config/", {"values": {"A": "1", "B": "x y"}}),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Creating config... done\n\n" + CONFIG_LIST,
    ),
    "config:set -a between vars": dict(
        argv=["config:set", "A=1", "-a", "foo", "B=2"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            ("POST", "/v2/apps/foo/config/", {"values": {"A": "1", "B": "2"}}),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Creating config... done\n\n" + CONFIG_LIST,
    ),
    "config:unset KEYS --app=": dict(
        argv=["config:unset", "A", "B", "--app=foo"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            ("POST", "/v2/apps/foo/config/", {"values": {"A": None, "B": None}}),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Removing config... done\n\n" + CONFIG_LIST,
    ),
    "config:pull to a pipe": dict(
        argv=["config:pull", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("GET", "/v2/apps/foo/config/", None)],
        stdout="A=1\n",
    ),
    "config:push -p FILE -a": dict(
        argv=["config:push", "-p", "prod.env", "-a", "foo"],
        files={"prod.env": "A=1\n"},
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("POST", "/v2/apps/foo/config/", {"values": {"A": "1"}}), ("GET", "/v2/apps/foo/config/", None)],
        stdout="Creating config... done\n\n" + CONFIG_LIST,
    ),
    "config:push missing file": dict(
        argv=["config:push", "--path=nope.env"],
        answers={},
        calls=[],
        stdout="",
        stderr="Error: open nope.env: no such file or directory\n",
        code=1,
    ),
    # domains
    "domains:add DOMAIN -a": dict(
        argv=["domains:add", "www.x.org", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/domains/"): (201, {})},
        calls=[("POST", "/v2/apps/foo/domains/", {"domain": "www.x.org"})],
        stdout="Adding www.x.org to foo... done\n",
    ),
    "domains:remove -a DOMAIN": dict(
        argv=["domains:remove", "-a", "foo", "www.x.org"],
        answers={("DELETE", "/v2/apps/foo/domains/www.x.org"): (204, None)},
        calls=[("DELETE", "/v2/apps/foo/domains/www.x.org", None)],
        stdout="Removing www.x.org from foo... done\n",
    ),
    "domains -l -a": dict(
        argv=["domains", "-l", "1", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/domains/"): (200, page([{"domain": "foo"}], count=2))},
        calls=[("GET", "/v2/apps/foo/domains/?limit=1", None)],
        stdout="=== foo Domains (1 of 2)\nfoo\n",
    ),
    # healthchecks
    "healthchecks --type": dict(
        argv=["healthchecks", "--type", "web", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("GET", "/v2/apps/foo/config/", None)],
        stdout=HEALTH.replace("web/cmd", "web"),
    ),
    "healthchecks:set exec -- CMD with flags": dict(
        argv=["healthchecks:set", "readiness", "exec", "-a", "foo", "--period-seconds=5", "--", "cat", "-n", "/x"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            (
                "POST",
                "/v2/apps/foo/config/",
                {
                    "healthcheck": {
                        "web/cmd": {
                            "readinessProbe": {
                                "initialDelaySeconds": 50,
                                "timeoutSeconds": 50,
                                "periodSeconds": 5,
                                "successThreshold": 1,
                                "failureThreshold": 3,
                                "exec": {"command": ["cat", "-n", "/x"]},
                            }
                        }
                    }
                },
            ),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Applying readinessProbe healthcheck... done\n\n" + HEALTH,
    ),
    "healthchecks:set httpGet PORT options after": dict(
        argv=["healthchecks:set", "liveness", "httpGet", "80", "--path=/hz", "--type", "web", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            (
                "POST",
                "/v2/apps/foo/config/",
                {
                    "healthcheck": {
                        "web": {
                            "livenessProbe": {
                                "initialDelaySeconds": 50,
                                "timeoutSeconds": 50,
                                "periodSeconds": 10,
                                "successThreshold": 1,
                                "failureThreshold": 3,
                                "httpGet": {"path": "/hz", "port": 80},
                            }
                        }
                    }
                },
            ),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Applying livenessProbe healthcheck... done\n\n" + HEALTH.replace("web/cmd", "web"),
    ),
    "healthchecks:set bad port": dict(
        argv=["healthchecks:set", "liveness", "tcpSocket", "http"],
        answers={},
        calls=[],
        stdout="",
        stderr='Error: could not parse port: strconv.Atoi: parsing "http": invalid syntax\n',
        code=1,
    ),
    "healthchecks:unset -a TYPES": dict(
        argv=["healthchecks:unset", "-a", "foo", "liveness", "readiness"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            (
                "POST",
                "/v2/apps/foo/config/",
                {"healthcheck": {"web/cmd": {"livenessProbe": None, "readinessProbe": None}}},
            ),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Removing healthchecks... done\n\n" + HEALTH,
    ),
    # keys
    "keys:add FILE": dict(
        argv=["keys:add", KEY_FILE[0]],
        files=dict([KEY_FILE]),
        answers={("POST", "/v2/keys/"): (201, {})},
        calls=[("POST", "/v2/keys/", {"id": "bob@laptop", "public": KEY_FILE[1]})],
        stdout="Uploading id_x.pub to deis... done\n",
    ),
    "keys:add missing file": dict(
        argv=["keys:add", "nope.pub"],
        answers={},
        calls=[],
        stdout="",
        stderr="Error: open nope.pub: no such file or directory\n",
        code=1,
    ),
    "keys:remove": dict(
        argv=["keys:remove", "bob@laptop"],
        answers={("DELETE", "/v2/keys/bob@laptop"): (204, None)},
        calls=[("DELETE", "/v2/keys/bob@laptop", None)],
        stdout="Removing bob@laptop SSH Key... done\n",
    ),
    # labels
    "labels:set -a PAIRS": dict(
        argv=["labels:set", "-a", "foo", "team=web"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"label": {"team": "web"}})],
        stdout="Applying labels on foo... done\n",
    ),
    "labels:unset KEYS -a": dict(
        argv=["labels:unset", "team", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"label": {"team": None}})],
        stdout="Removing labels on foo... done\n",
    ),
    "labels": dict(
        argv=["labels", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/settings/"): (200, SETTINGS)},
        calls=[("GET", "/v2/apps/foo/settings/", None)],
        stdout="=== foo Label\nteam:      web\n",
    ),
    # limits
    "limits:set --cpu after pairs": dict(
        argv=["limits:set", "web=500m", "--cpu", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("POST", "/v2/apps/foo/config/", {"cpu": {"web": "500m"}}), ("GET", "/v2/apps/foo/config/", None)],
        stdout="Applying limits... done\n\n" + LIMITS,
    ),
    "limits:set -m before pairs": dict(
        argv=["limits:set", "-a", "foo", "-m", "web=1G"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("POST", "/v2/apps/foo/config/", {"memory": {"web": "1G"}}), ("GET", "/v2/apps/foo/config/", None)],
        stdout="Applying limits... done\n\n" + LIMITS,
    ),
    "limits:unset --memory TYPE": dict(
        argv=["limits:unset", "--memory", "web", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("POST", "/v2/apps/foo/config/", {"memory": {"web": None}}), ("GET", "/v2/apps/foo/config/", None)],
        stdout="Applying limits... done\n\n" + LIMITS,
    ),
    "limits": dict(
        argv=["limits", "--app=foo"],
        answers={("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("GET", "/v2/apps/foo/config/", None)],
        stdout=LIMITS,
    ),
    # maintenance, routing, tls, whitelist, autoscale
    "maintenance": dict(
        argv=["maintenance", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/settings/"): (200, SETTINGS)},
        calls=[("GET", "/v2/apps/foo/settings/", None)],
        stdout="Maintenance mode is on.\n",
    ),
    "maintenance:on": dict(
        argv=["maintenance:on", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"maintenance": True})],
        stdout="Enabling maintenance mode for foo... done\n",
    ),
    "maintenance:off": dict(
        argv=["maintenance:off", "--app=foo"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"maintenance": False})],
        stdout="Disabling maintenance mode for foo... done\n",
    ),
    "routing:info": dict(
        argv=["routing:info", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/settings/"): (200, SETTINGS)},
        calls=[("GET", "/v2/apps/foo/settings/", None)],
        stdout="Routing is disabled.\n",
    ),
    "routing:enable": dict(
        argv=["routing:enable", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"routable": True})],
        stdout="Enabling routing for foo... done\n",
    ),
    "routing:disable": dict(
        argv=["routing:disable", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"routable": False})],
        stdout="Disabling routing for foo... done\n",
    ),
    "tls": dict(
        argv=["tls", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/tls/"): (200, {"https_enforced": True})},
        calls=[("GET", "/v2/apps/foo/tls/", None)],
        stdout="=== foo TLS\nHTTPS Enforced: true\n",
    ),
    "tls:enable": dict(
        argv=["tls:enable", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/tls/"): (201, {})},
        calls=[("POST", "/v2/apps/foo/tls/", {"https_enforced": True})],
        stdout="Enabling https-only requests for foo... done\n",
    ),
    "tls:disable": dict(
        argv=["tls:disable", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/tls/"): (201, {})},
        calls=[("POST", "/v2/apps/foo/tls/", {"https_enforced": False})],
        stdout="Disabling https-only requests for foo... done\n",
    ),
    "whitelist:add ADDRS -a": dict(
        argv=["whitelist:add", "1.2.3.4,10.0.0.0/8", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/whitelist/"): (201, {})},
        calls=[("POST", "/v2/apps/foo/whitelist/", {"addresses": ["1.2.3.4", "10.0.0.0/8"]})],
        stdout="Adding 1.2.3.4,10.0.0.0/8 to foo whitelist...\ndone\n",
    ),
    "whitelist:remove -a ADDRS": dict(
        argv=["whitelist:remove", "-a", "foo", "1.2.3.4"],
        answers={("DELETE", "/v2/apps/foo/whitelist/"): (204, None)},
        calls=[("DELETE", "/v2/apps/foo/whitelist/", {"addresses": ["1.2.3.4"]})],
        stdout="Removing 1.2.3.4 from foo whitelist...\ndone\n",
    ),
    "whitelist": dict(
        argv=["whitelist", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/whitelist/"): (200, {"addresses": ["1.2.3.4"]})},
        calls=[("GET", "/v2/apps/foo/whitelist/", None)],
        stdout="=== foo Whitelisted Addresses1.2.3.4\n",
    ),
    "autoscale:set TYPE --min= --max= --cpu-percent=": dict(
        argv=["autoscale:set", "web", "--min=1", "--max=3", "--cpu-percent=50", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"autoscale": {"web": {"min": 1, "max": 3, "cpu_percent": 50}}})],
        stdout="Applying autoscale settings for process type web on foo... done\n",
    ),
    "autoscale:set options first": dict(
        argv=["autoscale:set", "-a", "foo", "--max", "3", "--min", "1", "--cpu-percent", "50", "web"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"autoscale": {"web": {"min": 1, "max": 3, "cpu_percent": 50}}})],
        stdout="Applying autoscale settings for process type web on foo... done\n",
    ),
    "autoscale:unset": dict(
        argv=["autoscale:unset", "web", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/settings/"): (201, SETTINGS)},
        calls=[("POST", "/v2/apps/foo/settings/", {"autoscale": {"web": None}})],
        stdout="Removing autoscale for process type web on foo... done\n",
    ),
    "autoscale": dict(
        argv=["autoscale", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/settings/"): (200, SETTINGS)},
        calls=[("GET", "/v2/apps/foo/settings/", None)],
        stdout="=== foo Autoscale\n\nNo autoscale rules found.\n",
    ),
    # perms
    "perms:list -a": dict(
        argv=["perms:list", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/perms/"): (200, {"users": ["carol"]})},
        calls=[("GET", "/v2/apps/foo/perms/", None)],
        stdout="=== foo's Users\ncarol\n",
    ),
    "sharing --admin -l": dict(
        argv=["sharing", "--admin", "-l", "5"],
        answers={("GET", "/v2/admin/perms/"): (200, page([{"username": "bob"}]))},
        calls=[("GET", "/v2/admin/perms/?limit=5", None)],
        stdout="=== Administrators\nbob\n",
    ),
    "perms:create USER -a": dict(
        argv=["perms:create", "carol", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/perms/"): (201, {})},
        calls=[("POST", "/v2/apps/foo/perms/", {"username": "carol"})],
        stdout="Adding carol to foo collaborators... done\n",
    ),
    "sharing:add --admin USER": dict(
        argv=["sharing:add", "--admin", "carol"],
        answers={("POST", "/v2/admin/perms/"): (201, {})},
        calls=[("POST", "/v2/admin/perms/", {"username": "carol"})],
        stdout="Adding carol to system administrators... done\n",
    ),
    "perms:delete -a USER": dict(
        argv=["perms:delete", "-a", "foo", "carol"],
        answers={("DELETE", "/v2/apps/foo/perms/carol"): (204, None)},
        calls=[("DELETE", "/v2/apps/foo/perms/carol", None)],
        stdout="Removing carol from foo collaborators... done\n",
    ),
    # ps
    "scale -a PAIRS": dict(
        argv=["scale", "-a", "foo", "web=2"],
        answers={("POST", "/v2/apps/foo/scale/"): (204, None), ("GET", "/v2/apps/foo/pods/"): (200, page([POD]))},
        calls=[("POST", "/v2/apps/foo/scale/", {"web": 2}), ("GET", "/v2/apps/foo/pods/?limit=100", None)],
        stdout="Scaling processes... but first, coffee!\ndone in 0s\n" + PS,
    ),
    "ps:scale PAIRS --app=": dict(
        argv=["ps:scale", "web=2", "worker=1", "--app=foo"],
        answers={("POST", "/v2/apps/foo/scale/"): (204, None), ("GET", "/v2/apps/foo/pods/"): (200, page([POD]))},
        calls=[("POST", "/v2/apps/foo/scale/", {"web": 2, "worker": 1}), ("GET", "/v2/apps/foo/pods/?limit=100", None)],
        stdout="Scaling processes... but first, coffee!\ndone in 0s\n" + PS,
    ),
    "ps:restart TYPE -a": dict(
        argv=["ps:restart", "web", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/pods/web/restart/"): (200, [POD])},
        calls=[("POST", "/v2/apps/foo/pods/web/restart/", None)],
        stdout="Restarting processes... but first, coffee!\ndone in 0s\n" + PS,
    ),
    "ps -a": dict(
        argv=["ps", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/pods/"): (200, page([POD]))},
        calls=[("GET", "/v2/apps/foo/pods/?limit=1000", None)],
        stdout=PS,
    ),
    # on a swarm a pod names its node (not in Deis's pod): said after the Go CLI's line, which is unchanged
    "ps -a (pods with nodes)": dict(
        argv=["ps", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/pods/"): (200, page([
            {**POD, "node": "node-2"}, {**POD, "name": "foo-web-1234567890-fghij", "node": "node-3"},
            {**POD, "name": "foo-web-1234567890-klmno", "node": None}]))},
        calls=[("GET", "/v2/apps/foo/pods/?limit=1000", None)],
        stdout="=== foo Processes\n--- web:\nfoo-web-1234567890-abcde up (v2) on node-2\n"
               "foo-web-1234567890-fghij up (v2) on node-3\nfoo-web-1234567890-klmno up (v2)\n",
    ),
    # registry, tags
    "registry:set -a PAIRS": dict(
        argv=["registry:set", "-a", "foo", "username=bob"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            ("POST", "/v2/apps/foo/config/", {"registry": {"username": "bob"}}),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Applying registry information... done\n\n=== foo Registry\nusername     bob\n",
    ),
    "registry:unset KEYS -a": dict(
        argv=["registry:unset", "username", "-a", "foo"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            ("POST", "/v2/apps/foo/config/", {"registry": {"username": None}}),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Applying registry information... done\n\n=== foo Registry\nusername     bob\n",
    ),
    "tags:set PAIRS -a": dict(
        argv=["tags:set", "rack=1", "-a", "foo", "env=prod"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[
            ("POST", "/v2/apps/foo/config/", {"tags": {"rack": "1", "env": "prod"}}),
            ("GET", "/v2/apps/foo/config/", None),
        ],
        stdout="Applying tags... done\n\n=== foo Tags\nrack     1\n",
    ),
    "tags:unset -a KEYS": dict(
        argv=["tags:unset", "-a", "foo", "rack"],
        answers={("POST", "/v2/apps/foo/config/"): (201, CONFIG), ("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("POST", "/v2/apps/foo/config/", {"tags": {"rack": None}}), ("GET", "/v2/apps/foo/config/", None)],
        stdout="Applying tags... done\n\n=== foo Tags\nrack     1\n",
    ),
    # releases
    "releases:info VERSION -a": dict(
        argv=["releases:info", "v1", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/releases/v1/"): (200, RELEASE)},
        calls=[("GET", "/v2/apps/foo/releases/v1/", None)],
        stdout=None,
    ),
    "releases:info bad version": dict(
        argv=["releases:info", "vx"],
        answers={},
        calls=[],
        stdout="",
        stderr='Error: strconv.Atoi: parsing "x": invalid syntax\n',
        code=1,
    ),
    "rollback -a VERSION": dict(
        argv=["rollback", "-a", "foo", "3"],
        answers={("POST", "/v2/apps/foo/releases/rollback/"): (201, {"version": 5})},
        calls=[("POST", "/v2/apps/foo/releases/rollback/", {"version": 3})],
        stdout="Rolling back to v3... done, v5\n",
    ),
    "releases:rollback": dict(
        argv=["releases:rollback", "--app=foo"],
        answers={("POST", "/v2/apps/foo/releases/rollback/"): (201, {"version": 5})},
        calls=[("POST", "/v2/apps/foo/releases/rollback/", None)],
        stdout="Rolling back one release... done, v5\n",
    ),
    "releases -l -a": dict(
        argv=["releases", "-l", "1", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/releases/"): (200, page([RELEASE]))},
        calls=[("GET", "/v2/apps/foo/releases/?limit=1", None)],
        stdout="=== foo Releases\nv1\tC\ts\n",
    ),
    # users, version
    "users -l": dict(
        argv=["users", "-l", "2"],
        answers={("GET", "/v2/users/"): (200, page([{"username": "bob", "is_superuser": True}]))},
        calls=[("GET", "/v2/users/?limit=2", None)],
        stdout="=== Users (*=admin)\n*bob\n",
    ),
    "version": dict(argv=["version"], answers={}, calls=[], stdout="2.3.0\n"),
    "shortcuts:list": dict(
        argv=["shortcuts:list"],
        answers={},
        calls=[],
        stdout="".join(f"{k} -> {SHORTCUTS[k]}\n" for k in sorted(SHORTCUTS)) + "\n",
    ),
    "open -a without an opener on PATH": dict(
        argv=["open", "-a", "foo"],
        env={"PATH": "/nonexistent"},
        answers={("GET", "/v2/apps/foo/domains/"): (200, page([{"domain": "foo"}]))},
        calls=[("GET", "/v2/apps/foo/domains/?limit=1", None)],
        stdout="",
        stderr='Error: exec: "xdg-open": executable file not found in $PATH\n',
        code=1,
    ),
    "version -a": dict(
        argv=["version", "-a"],
        answers={("GET", "/healthz"): (200, "OK")},
        calls=[("GET", "/healthz", None)],
        stdout="Workflow CLI Version:            2.3.0\nWorkflow CLI API Version:        2.3\n"
        "Workflow Controller API Version: 2.3\n",
    ),
    "info -a": dict(
        argv=["info", "-a", "foo"],
        answers={
            ("GET", "/v2/apps/foo/"): (200, {"id": "foo", "uuid": "u", "owner": "bob", "created": "C", "updated": "U"}),
            ("GET", "/v2/apps/foo/domains/"): (200, page([{"domain": "foo"}])),
            ("GET", "/v2/apps/foo/pods/"): (200, page([POD])),
            ("GET", "/v2/apps/foo/settings/"): (200, SETTINGS),
        },
        calls=[
            ("GET", "/v2/apps/foo/", None),
            ("GET", "/v2/apps/foo/domains/?limit=1", None),
            ("GET", "/v2/apps/foo/pods/?limit=100", None),
            ("GET", "/v2/apps/foo/domains/?limit=100", None),
            ("GET", "/v2/apps/foo/settings/", None),
        ],
        stdout="=== foo Application\nupdated:  U\nuuid:     u\ncreated:  C\nurl:      foo.example.com\n"
        "owner:    bob\nid:       foo\n\n" + PS + "\n=== foo Domains\nfoo\n\n=== foo Label\nteam:      web\n\n",
    ),
    "keys -l": dict(
        argv=["keys", "-l", "1"],
        answers={("GET", "/v2/keys/"): (200, page([{"id": "bob@laptop", "public": KEY_FILE[1]}]))},
        calls=[("GET", "/v2/keys/?limit=1", None)],
        stdout="=== bob Keys\nbob@laptop ssh-ed25519 AAAA...bob@laptop\n",
    ),
    "registry -a": dict(
        argv=["registry", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("GET", "/v2/apps/foo/config/", None)],
        stdout="=== foo Registry\nusername     bob\n",
    ),
    "tags:list --app=": dict(
        argv=["tags:list", "--app=foo"],
        answers={("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("GET", "/v2/apps/foo/config/", None)],
        stdout="=== foo Tags\nrack     1\n",
    ),
    "config:list": dict(
        argv=["config:list", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("GET", "/v2/apps/foo/config/", None)],
        stdout=CONFIG_LIST,
    ),
    "healthchecks:list": dict(
        argv=["healthchecks:list", "-a", "foo"],
        answers={("GET", "/v2/apps/foo/config/"): (200, CONFIG)},
        calls=[("GET", "/v2/apps/foo/config/", None)],
        stdout=HEALTH,
    ),
    "certs:info NAME": dict(
        argv=["certs:info", "www"],
        answers={("GET", "/v2/certs/www"): (200, CERT)},
        calls=[("GET", "/v2/certs/www", None)],
        stdout=None,
    ),
    "--version": dict(argv=["--version"], answers={}, calls=[], stdout="2.3.0\n"),
    "-v": dict(argv=["-v"], answers={}, calls=[], stdout="2.3.0\n"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_command(deis, profile, api, case, monkeypatch):
    spec = CASES[case]
    monkeypatch.setattr("cli.commands.apps.sys.platform", "linux")  # `deis open` runs xdg-open
    for name, value in spec.get("env", {}).items():
        monkeypatch.setenv(name, value)
    for name, text in spec.get("files", {}).items():
        Path(name).write_text(text)
    for (method, path), (status, body) in spec["answers"].items():
        response = reply(status, text=body) if isinstance(body, str) else reply(status, body)
        api.route(method=method, path=path).mock(return_value=response)
    api._assert_all_called = False  # an error case may stop before every answer was asked for
    result = deis(*spec["argv"])
    sent = [(call.request.method, call.request.url.raw_path.decode(), sent_json(call.request)) for call in api.calls]
    assert sent == spec["calls"]
    if spec["stdout"] is not None:
        assert result.stdout == spec["stdout"]
    if spec.get("stderr", "") is not None:
        assert result.stderr == spec.get("stderr", "")
    assert result.exit_code == spec.get("code", 0), result.output


@pytest.mark.parametrize(
    "argv",
    [
        ["-c", "other", "whoami"],
        ["whoami", "-c", "other"],
        ["whoami", "--config=other"],
        ["--config", "other", "whoami"],
    ],
)
def test_config_flag_anywhere(deis, profile, argv):
    """`-c NAME`/`--config=NAME` names the profile wherever it stands (`deis.go getConfigFlag`)."""
    other = profile.parent / "other.json"
    other.write_text(profile.read_text().replace('"bob"', '"carol"'))
    result = deis(*argv)
    assert (result.exit_code, result.stdout) == (0, "You are carol at http://deis.example.com\n")


def test_config_flag_is_not_taken_after_double_dash(deis, profile, api):
    route = api.post("/v2/apps/myapp/run").mock(return_value=reply(200, {"exit_code": 0, "output": ""}))
    result = deis("run", "--", "grep", "-c", "x", "f")
    assert result.exit_code == 0, result.output
    assert sent_json(route.calls[0].request) == {"command": "grep -c x f"}


def test_extras_are_ours_only_before_double_dash(deis, profile, api):
    route = api.post("/v2/apps/myapp/run").mock(return_value=reply(200, {"exit_code": 0, "output": ""}))
    assert deis("run", "--", "tool", "--json").exit_code == 0
    assert sent_json(route.calls[0].request) == {"command": "tool --json"}
    listing = api.get("/v2/apps/").mock(return_value=reply(200, page([{"id": "a"}])))
    result = deis("apps", "--json")
    assert json.loads(result.stdout) == page([{"id": "a"}])
    assert listing.called


DEFAULTS = {topic: f"{topic}:list" for topic in TOPICS} | {
    "maintenance": "maintenance:info",
    "routing": "routing:info",
    "tls": "tls:info",
}
NOT_COMPARED = {"git:remote", "git:remove"}  # no git builder here: README "The deis CLI and the Workflow CLI"


def test_every_command_has_cases():
    covered = set()
    for spec in CASES.values():
        word = next(arg for arg in spec["argv"] if not arg.startswith("-") or arg in ("--version", "-v"))
        word = {"--version": "version", "-v": "version"}.get(word, word)
        covered.add(SHORTCUTS.get(word) or DEFAULTS.get(word) or word)
    assert set(COMMANDS) - NOT_COMPARED - covered == set()
