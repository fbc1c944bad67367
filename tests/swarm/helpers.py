"""What the swarm tests share."""

from __future__ import annotations

import time


def wait_for(predicate, timeout: float, what: str):
    """The predicate's first truthy result, polled every second; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(1)
    return result
