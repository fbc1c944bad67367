"""`deis logs` carries Deis's own lines for create, build, config, domain and settings changes, in order,
beside our richer deploy events (a real `workflow serve` and the installed `deis`)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

LINE = re.compile(r"^\S+ deis\[controller\]: INFO (.*)$")


def test_logs_show_the_lines_deis_writes(server, deis):
    deis("register", server.url, "--username=dana", "--password=secret", "--email=d@example.com")
    deis("create", "books", "--no-remote")
    deis("pull", "test/web:latest", "-a", "books")
    deis("config:set", "GREETING=hi", "-a", "books")
    deis("domains:add", "books.example.com", "-a", "books")
    deis("maintenance:on", "-a", "books")

    out = deis("logs", "-a", "books").stdout
    lines = [m.group(1) for m in map(LINE.match, out.splitlines()) if m]
    short = r"books-[0-9a-f]{7}"
    digest = r" \(sha256:[0-9a-f]{12}\)"  # the release summary names the digest the build pinned
    expected = [
        rf"config {short} updated",
        r"dana created initial release",
        rf"appsettings {short} updated",
        r"domain books added",
        rf"build {short} created",
        rf"dana deployed test/web:latest{digest}",
        rf"dana deployed v2: dana deployed test/web:latest{digest}",  # ours: the deploy's outcome
        rf"config {short} updated",
        r"dana added GREETING",
        r"dana deployed v3: dana added GREETING",
        r"domain books.example.com added",
        rf"appsettings {short} updated",
    ]
    deis_lines = [line for line in lines if not line.startswith(("container ", "dana scaled"))]
    assert len(deis_lines) == len(expected), out
    for line, pattern in zip(deis_lines, expected, strict=True):
        assert re.fullmatch(pattern, line), f"{line!r} !~ {pattern!r}\n{out}"
