"""`deis.go`: an unknown topic runs `deis-<topic>` from PATH with the rest of argv (the installed binary,
since the plugin replaces the process)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def run_deis(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("deis", path=str(BIN)) or str(BIN / "deis")
    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{tmp_path}:{os.environ.get('PATH', '')}"}
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=60)


def test_plugin_gets_the_rest_of_argv(tmp_path):
    plugin = tmp_path / "deis-hello"
    plugin.write_text('#!/bin/sh\necho "plugin: $*"\n')
    plugin.chmod(0o755)
    result = run_deis(tmp_path, "hello:world", "-a", "x", "--", "y")
    assert (result.returncode, result.stdout) == (0, "plugin: world -a x -- y\n")
    result = run_deis(tmp_path, "hello", "z")
    assert (result.returncode, result.stdout) == (0, "plugin: z\n")


def test_no_plugin(tmp_path):
    result = run_deis(tmp_path, "nothing-here")
    assert result.returncode == 1
    assert result.stderr == "Found no matching command, try 'deis help'\nUsage: deis <command> [<args>...]\n"
