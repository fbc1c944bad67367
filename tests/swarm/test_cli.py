"""The issue's walk-through on the 3-node test swarm, with the installed `deis` CLI against the stack
(deploy/stack.yml): a user registers, creates an app and pulls an image; the app answers through the router;
`scale cmd=6` runs tasks on at least two nodes, which `deis ps` names; `tags:set` pins the app to the node
labelled so, and a label no node has is refused."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import deis  # noqa: F401  (the fixture: the installed CLI with a HOME of its own)
from tests.swarm.helpers import wait_for
from tests.swarm.stack import deployed_stack

pytestmark = pytest.mark.swarm

POD = re.compile(r"^(?P<app>\S+)-cmd-\d{10}-[a-z0-9]{5} up \(v(?P<version>\d+)\) on (?P<node>\S+)$", re.M)


def nodes_serving(deis, app: str, version: int) -> list[str]:  # noqa: F811
    """The nodes of the app's `up` pods of that release, as `deis ps` lists them."""
    out = deis("ps", "-a", app).stdout
    return [m["node"] for m in POD.finditer(out) if int(m["version"]) == version]


def test_register_create_pull_scale_and_pin_with_the_cli(swarm, platform_images, deis):  # noqa: F811
    with deployed_stack(swarm, platform_images) as stack:
        out = deis("register", stack.base, "--username=alice", "--password=secret",
                   "--email=alice@example.com").stdout
        assert "Registered alice" in out and "Logged in as alice" in out
        app = f"t{uuid.uuid4().hex[:8]}"
        stack.apps.append(app)  # its services go with the stack
        out = deis("create", app, "--no-remote").stdout
        assert out.startswith(f"Creating Application... done, created {app}\n"), out

        pulled = deis("pull", f"{swarm.registry}/test/web:latest", "-a", app).stdout.strip()
        assert re.fullmatch("Creating build... done, v2 \\(sha256:[0-9a-f]{8}\u2026 new\\)", pulled), pulled
        assert stack.get(app).status_code == 200

        out = deis("scale", "cmd=6", "-a", app).stdout
        assert out.startswith("Scaling processes... but first, coffee!\ndone in "), out
        nodes = nodes_serving(deis, app, 2)
        assert len(nodes) == 6 and len(set(nodes)) >= 2, nodes
        assert set(nodes) <= {swarm.hostname(i) for i in range(1, swarm.size + 1)}, nodes
        for _ in range(12):
            assert stack.get(app).status_code == 200

        label = f"zone{uuid.uuid4().hex[:6]}"
        refused = deis("tags:set", f"{label}=edge", "-a", app, ok=False)
        assert refused.returncode != 0
        assert "No nodes matched the provided labels" in refused.stdout + refused.stderr

        swarm.docker(1, "node", "update", "--label-add", f"{label}=edge", swarm.hostname(3))
        try:
            out = deis("tags:set", f"{label}=edge", "-a", app).stdout
            assert re.search(rf"^{label}\s+edge$", out, re.M), out
            # the tags make a new release (v3); its six tasks run on node 3 alone
            pinned = wait_for(lambda: (n := nodes_serving(deis, app, 3)) and len(n) == 6 and n, 120,
                              "six tasks of v3")
            assert set(pinned) == {swarm.hostname(3)}, pinned
            for _ in range(12):
                assert stack.get(app).status_code == 200
        finally:
            swarm.docker(1, "node", "update", "--label-rm", label, swarm.hostname(3), check=False)
