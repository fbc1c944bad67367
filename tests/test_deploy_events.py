"""services/deploy_events.py without an engine: the recorder's numbering and bound, live waiting, the
wrong-port diagnosis from /proc/net/tcp, and the hints (the engine path: tests/e2e/test_deploy_events.py)."""

from __future__ import annotations

import asyncio

from workflow.services import deploy_events
from workflow.services.deploy_events import MAX_EVENTS_PER_RUN, QUIET, DeployEvents, listening_ports

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0B00007F:A293 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 00000000:270F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
   3: 0200A8C0:270F 0100A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:1F40 00000000000000000000000000000000:0000 0A 00000000:00000000 00:0 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:0 0
"""


def test_listening_ports_leave_out_loopback_and_connections():
    # 127.0.0.11:41619 (Docker's DNS) and 127.0.0.1:8080 are loopback, ::1:80 too; line 3 is ESTABLISHED
    assert listening_ports(PROC_NET_TCP) == [8000, 9999]
    assert listening_ports("") == []
    assert listening_ports("garbage\n  0: zz:zz 0A\n") == []


def test_events_are_numbered_from_the_first_seq_and_after_reads_past_a_seq():
    events = DeployEvents("app", 3, first_seq=5)
    events.planned({"cmd": 2, "web": 0})
    events.started("cmd", ["a", "b"], 2, 2)
    events.switched()
    assert [e["seq"] for e in events.items] == [5, 6, 7]
    assert events.items[0]["message"] == "deploying v3: cmd=2"
    assert events.items[1]["data"] == {"proc_type": "cmd", "containers": ["a", "b"], "n": 2, "total": 2}
    assert [e["seq"] for e in events.after(5)] == [6, 7]
    assert [e["seq"] for e in events.after(0)] == [5, 6, 7]
    assert events.after(7) == []


def test_a_run_is_bounded_and_keeps_its_outcome():
    events = DeployEvents("app", 2)
    for attempt in range(MAX_EVENTS_PER_RUN * 2):
        events.probe("c", attempt, "refused")
    events.failed("nothing listens")
    assert len(events.items) == MAX_EVENTS_PER_RUN
    assert events.items[-2]["kind"] == "note" and f"{MAX_EVENTS_PER_RUN + 2} event(s) left out" in \
        events.items[-2]["message"]
    assert events.items[-1]["kind"] == "failed"


def test_failed_carries_the_hint_of_the_error_that_caused_it():
    events = DeployEvents("app", 4)
    events.not_listening("app-cmd-1", 8080, [9999], 4)
    events.failed("nothing listens on port 8080")
    assert "deis config:set PORT=9999" in events.items[-1]["data"]["hint"]
    crashed = DeployEvents("app", 5)
    crashed.crashed("app-cmd-1", 137, "", oom=True)
    crashed.failed("exited with code 137")
    assert crashed.items[0]["message"] == "app-cmd-1 was killed for lack of memory (OOM)"
    assert "limits:set" in crashed.items[-1]["data"]["hint"]
    plain = DeployEvents("app", 6)
    plain.failed("engine said no")
    assert plain.items[-1]["data"]["hint"] == ""


def test_quiet_records_nothing():
    QUIET.started("cmd", ["x"], 1, 1)
    QUIET.failed("x")
    assert QUIET.items == []


async def test_wait_wakes_on_the_next_event():
    events = DeployEvents("app", 2)
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, events.switched)
    started = loop.time()
    await events.wait(5)
    assert loop.time() - started < 1 and events.items[-1]["kind"] == "switch"
    events.done = True
    started = loop.time()
    await events.wait(5)  # a finished run does not wait
    assert loop.time() - started < 0.1


def test_event_line_for_the_logs():
    events = DeployEvents("app", 7)
    events.switched()
    moment, text = deploy_events.log_line(7, events.items[0])
    assert moment == events.items[0]["created"]
    assert text.endswith(" deis[deploy.v7]: INFO router switched to v7")


class _NoRows:
    """A session whose database holds no stored events (the runs below are live only)."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def scalars(self, _stmt):
        return self

    def all(self):
        return []


async def test_follow_shows_a_second_attempt_at_the_same_version_whole():
    from types import SimpleNamespace

    ctx = SimpleNamespace(live_events={}, live_started=asyncio.Event(), sessions=_NoRows)
    stream = deploy_events.follow(ctx, "app", 3, poll=0.01)
    refused = DeployEvents("app", 3)
    ctx.live_events[("app", 3)] = refused
    refused.resolved("img", "sha256:1")
    first = await asyncio.wait_for(stream.__anext__(), 2)
    assert '"seq": 1' in first and "resolved" in first
    refused.done = True  # refused with a 400: nothing stored
    del ctx.live_events[("app", 3)]
    again = DeployEvents("app", 3)  # the next attempt numbers from 1 again
    ctx.live_events[("app", 3)] = again
    again.resolved("img", "sha256:2")
    again.deployed()
    second = await asyncio.wait_for(stream.__anext__(), 2)
    assert "sha256:2" in second and "v3 deployed" in second
    await stream.aclose()


def test_pull_meter_sums_the_engine_stream_over_layers():
    from workflow.scheduler.docker.images import PullMeter

    heard = []
    meter = PullMeter(heard.append)
    stream = [
        {"status": "Pulling from team/web", "id": "v1"},
        {"status": "Already exists", "id": "aaa"},
        {"status": "Pulling fs layer", "id": "bbb"},
        {"status": "Pulling fs layer", "id": "ccc"},
        {"status": "Waiting", "id": "ccc"},
        *({"status": "Downloading", "id": "bbb", "progressDetail": {"current": n, "total": 1000}}
          for n in (100, 500, 1000)),
        {"status": "Verifying Checksum", "id": "bbb"},
        {"status": "Download complete", "id": "bbb"},
        {"status": "Downloading", "id": "ccc", "progressDetail": {"current": 50, "total": 200}},
        {"status": "Download complete", "id": "ccc"},
        {"status": "Extracting", "id": "bbb", "progressDetail": {"current": 10, "total": 1000}},
        {"status": "Pull complete", "id": "bbb"},
        {"status": "Pull complete", "id": "ccc"},
        {"status": "Digest: sha256:" + "1" * 64},
        {"status": "Status: Downloaded newer image for team/web:v1"},
    ]
    for message in stream:
        meter.hear(message)
    # Four downloads and two finished layers; the rest says nothing new.
    assert [(p.layers_done, p.layers, p.current, p.total, p.layer) for p in heard] == [
        (1, 3, 100, 1000, ""), (1, 3, 500, 1000, ""), (1, 3, 1000, 1000, ""), (1, 3, 1050, 1200, ""),
        (2, 3, 1200, 1200, "bbb"), (3, 3, 1200, 1200, "ccc")]


def test_pull_events_are_one_per_layer_and_bytes_at_most_every_half_second(monkeypatch):
    from workflow.scheduler.base import PullProgress

    clock = [100.0]
    monkeypatch.setattr(deploy_events.time, "monotonic", lambda: clock[0])
    events = DeployEvents("app", 2)
    heard = events.pulling("team/web@sha256:" + "1" * 64)
    for step in range(50):  # 50 byte updates over 2.5 s: five events (at 0, 0.5, 1.0, 1.5, 2.0 s)
        heard(PullProgress(layers_done=0, layers=2, current=step * 1000, total=50_000))
        clock[0] += 0.05
    heard(PullProgress(layers_done=1, layers=2, current=50_000, total=50_000, layer="f" * 64))
    heard(PullProgress(layers_done=2, layers=2, current=50_000, total=50_000, layer="e" * 64))
    messages = [e["message"] for e in events.items]
    assert len(messages) == 7, messages
    assert messages[0] == "pulling team/web: 0.0 kB of 50.0 kB, 0/2 layers"
    assert messages[-2:] == ["pulled layer 1/2 of team/web (ffffffffffff)",
                             "pulled layer 2/2 of team/web (eeeeeeeeeeee)"]
