"""The Go CLI's argv rules and texts through a live server: a real `workflow serve` process, the real engine,
the installed `deis` binary (stdout a pipe, stdin not a terminal, as in a CI job)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.cli.test_contract import COMMANDS, docopt_help
from tests.e2e.conftest import deis, server, test_images  # noqa: F401 - the live-server fixtures

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def test_ci_job_with_the_go_cli_argv(server, deis):  # noqa: F811 - the imported fixtures
    def live(*args: str):
        return deis(*args, ok=False)

    live.home = deis.home
    assert live("register", server.url, "--username=alice", "--password=secret", "--email=a@x.io").returncode == 0

    out = live("create", "web", "--no-remote", "--buildpack", "https://bp.example/x")
    assert out.stdout == (
        "Creating Application... done, created web\n"
        "If you want to add a git remote for this app later, use `deis git:remote -a web`\n"
    ), out.stderr
    pulled = live("config:pull", "-a", "web")  # stdout is a pipe: the .env lines, no file
    assert pulled.stdout == "BUILDPACK_URL=https://bp.example/x\n", pulled.stderr

    assert live("pull", "test/web:latest", "-a", "web").returncode == 0
    ran = live("run", "env", "-a", "web")  # `-a web` is ours, wherever it stands
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("Running 'env'...\n")
    assert "BUILDPACK_URL=https://bp.example/x" in ran.stdout
    verbatim = live("run", "-a", "web", "--", "echo", "-a", "x")  # after `--`: verbatim
    assert verbatim.stdout == "Running 'echo -a x'...\n-a x\n", verbatim.stderr

    helped = live("help", "config:unset")
    assert (helped.returncode, helped.stdout) == (0, docopt_help(COMMANDS["config:unset"]))
    missing = live("logs", "-a", "nope")
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: There are currently no log messages. Please check the following things:\n")

    assert live("destroy", "-a", "web", "--confirm=web").returncode == 0
    cancelled = live("auth:cancel", "--username=alice", "--password=secret", "--yes")
    assert cancelled.returncode == 0, cancelled.stderr
    profile = live.home / ".deis" / "client.json"
    assert cancelled.stdout == (
        "Please log in again in order to cancel this account\n"
        f"Logged in as alice\nConfiguration file written to {profile}\n"
        "Account cancelled\n"
    )
    assert not profile.exists()
    gone = live("login", server.url, "--username=alice", "--password=secret")
    assert gone.returncode == 1
    assert gone.stderr == "Error: Unable to log in with provided credentials.\n"
