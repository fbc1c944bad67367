"""Live deploy progress on a terminal (not in the Workflow CLI): while a deploying request runs, follow the
release's events (`GET /v2/apps/<app>/releases/v<N>/events/?follow=true`) and draw each step as a line.

Off a terminal nothing changes: the same calls, the same output as the Workflow CLI (the spinner, which
draws nothing there). On a terminal the extra calls are one releases page (which release to follow) and,
for a scale or restart, the release's events so far (to show only the new ones).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from cli import output
from cli.client import Client
from cli.errors import CLIError

_ERASE = "\r\x1b[K"  # back to the start of the line, and clear it
_SETTLE_SECONDS = 1.0  # after the request returned, how long the last events may take to arrive


def event_line(event: dict) -> str:
    """One event as the CLI shows it: `  <message>`, and on a failure the hint on a line of its own."""
    text = f"  {event.get('message', '')}"
    hint = (event.get("data") or {}).get("hint")
    if event.get("kind") == "failed" and hint:
        text += f"\n  what to do: {hint}"
    return text


def _target(client: Client, app_id: str, new_release: bool) -> tuple[int, int]:
    """(version, since): the release a deploy will make (the latest + 1), or for a scale or restart the
    release that runs (the newest not failed) and the last event it has."""
    releases, _, _ = client.paged(f"/v2/apps/{app_id}/releases/", 5)
    if new_release:
        return (int(releases[0]["version"]) + 1 if releases else 1), 0
    running = next((r for r in releases if not r.get("failed")), None)
    if running is None:
        raise CLIError("no release runs")
    version = int(running["version"])
    events = client.get(f"/v2/apps/{app_id}/releases/v{version}/events/") or {}
    seqs = [e.get("seq", 0) for e in events.get("results") or []]
    return version, max(seqs, default=0)


@contextmanager
def deploying(client: Client, app_id: str, new_release: bool = True, line_open: bool = True) -> Iterator[None]:
    """Around the request that deploys: live steps on a terminal, the spinner otherwise. `line_open`: the
    command printed the start of a line (`Creating build... `), which the first step ends."""
    if not output.stdout_is_tty():
        with output.spinner():
            yield
        return
    try:
        version, since = _target(client, app_id, new_release)
    except (CLIError, KeyError, TypeError, ValueError):
        with output.spinner():
            yield
        return
    # A client of its own (one connection per thread), verifying TLS as the command's does.
    follower = _Follower(Client(client.controller, client.token, client.ssl_verify), app_id, version, since)
    follower.printed = not line_open
    follower.start()
    try:
        yield
    finally:
        follower.finish()


class _Follower:
    """Reads the events stream in the background and prints each step until told to finish."""

    def __init__(self, client: Client, app_id: str, version: int, since: int) -> None:
        import threading  # here: only a terminal follows events, and `deis ps` should not pay for it

        self.client, self.app_id, self.version, self.since = client, app_id, version, since
        # A daemon: a stream still open when the command ends must not hold it up.
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.lock = threading.Lock()
        self.stopped = False
        self.printed = False
        self.counting = False  # the last line drawn is a pull's byte count, without its newline
        self.ended = threading.Event()  # a `deployed` or `failed` event was shown

    def start(self) -> None:
        self.thread.start()

    def run(self) -> None:
        path = f"/v2/apps/{self.app_id}/releases/v{self.version}/events/"
        try:
            for text in self.client.stream_lines(path, {"follow": "true", "since": str(self.since)}):
                if not text.strip():
                    continue
                event = json.loads(text)
                with self.lock:
                    if self.stopped:
                        return
                    # A pull's byte count is redrawn in place (the next line overwrites it), the rest kept.
                    counting = event.get("kind") == "pull" and not (event.get("data") or {}).get("layer")
                    start = _ERASE if self.counting else ("" if self.printed else "\n")
                    output.write(start + event_line(event) + ("" if counting else "\n"))
                    self.printed, self.counting = True, counting
                if event.get("kind") in ("deployed", "failed"):
                    self.ended.set()
        except Exception:  # noqa: BLE001 - progress is a courtesy: the command's own answer says how it went
            return

    def finish(self) -> None:
        self.ended.wait(_SETTLE_SECONDS)
        with self.lock:
            self.stopped = True  # the stream itself ends with the process (a daemon thread)
            if self.counting:  # the command's own last line takes the byte count's place
                output.write(_ERASE)
