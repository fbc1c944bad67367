"""DockerScheduler against the real engine and the local registry (no mocks)."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import aiodocker
import httpx
import pytest

from workflow.scheduler.base import (
    ContainerSpec,
    EngineEvent,
    EngineUnavailable,
    ImageInfo,
    ImageNotFound,
    ImagePullFailed,
    RegistryAuth,
    Resources,
    SchedulerError,
)
from workflow.scheduler.docker import DockerScheduler, deis_state, image_reference, split_image

from .conftest import PrivateRegistry

pytestmark = pytest.mark.engine

WEB_CMD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


def spec(app: str, image: str = "test/web", proc_type: str = "cmd", version: int = 1, **kw) -> ContainerSpec:
    kw.setdefault("env", {})
    return ContainerSpec(app=app, proc_type=proc_type, version=version, image=image, **kw)


async def http_get(url: str, patience: float = 5.0) -> httpx.Response:
    """GET with retries while the server is still binding its port."""
    deadline = time.monotonic() + patience
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            try:
                return await client.get(url)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


async def wait_for(predicate, patience: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + patience
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


class TestImageReferences:
    @pytest.mark.parametrize(
        "image, expected",
        [
            ("test/web", ("docker.io", "test/web", ":latest")),
            ("busybox:1.36", ("docker.io", "busybox", ":1.36")),
            ("127.0.0.1:5000/test/web", ("127.0.0.1:5000", "test/web", ":latest")),
            ("localhost/x:y", ("localhost", "x", ":y")),
            ("quay.io/a/b@sha256:abc", ("quay.io", "a/b", "@sha256:abc")),
        ],
    )
    def test_split(self, image, expected):
        assert split_image(image) == expected

    def test_reference_adds_latest(self):
        assert image_reference("test/web") == "test/web:latest"
        assert image_reference("127.0.0.1:5000/test/web") == "127.0.0.1:5000/test/web:latest"
        assert image_reference("test/web:v2") == "test/web:v2"
        assert image_reference("a/b@sha256:abc") == "a/b@sha256:abc"

    def test_states(self):
        assert deis_state("created", None) == "starting"
        assert deis_state("running", None) == "up"
        assert deis_state("restarting", None) == "crashed"
        assert deis_state("removing", None) == "terminating"
        assert deis_state("exited", 0) == "down"
        assert deis_state("exited", 1) == "crashed"
        assert deis_state("dead", None) == "crashed"


class TestPing:
    async def test_ok(self, scheduler: DockerScheduler):
        await scheduler.ping()

    async def test_unreachable_engine(self):
        sched = DockerScheduler.from_url("unix:///nonexistent/docker.sock", api_timeout=2)
        try:
            with pytest.raises(EngineUnavailable):
                await sched.ping()
            with pytest.raises(EngineUnavailable):
                await sched.pull("test/web")
            with pytest.raises(EngineUnavailable):
                await sched.list()
        finally:
            await sched.close()


class TestPull:
    @pytest.mark.parametrize(
        "image, ports, entrypoint, cmd",
        [
            ("test/web", [8080], None, WEB_CMD),
            ("gabrtv/example-go", [8080], None, WEB_CMD),
            ("test/noexpose", [], None, WEB_CMD),
            ("test/twoexpose", [8080, 9090], None, WEB_CMD),
            ("test/nocmd", [8080], None, None),
            ("test/crash", [8080], None, ["/bin/sh", "-c", 'echo "fatal: crash image exits at once" >&2; exit 1']),
            ("test/nolisten", [8080], None, ["sleep", "3600"]),
            ("test/slow", [8080], None, ["/bin/sh", "-c", "sleep 3; exec httpd -f -p 8080 -h /www"]),
            ("test/tcp", [8080], None, ["nc", "-ll", "-p", "8080", "-e", "/bin/tcp-hello"]),
            ("test/wrongport", [8080], None, ["httpd", "-f", "-p", "9999", "-h", "/www"]),
        ],
    )
    async def test_image_info(self, scheduler: DockerScheduler, image, ports, entrypoint, cmd):
        info = await scheduler.pull(image, always=True)  # through the registry mirror
        assert info == ImageInfo(image=image + ":latest", exposed_ports=ports, entrypoint=entrypoint, cmd=cmd)

    async def test_present_image_is_not_pulled_again(self, scheduler: DockerScheduler):
        await scheduler.pull("test/web")
        started = time.monotonic()
        info = await scheduler.pull("test/web:latest")
        assert info.exposed_ports == [8080]
        assert time.monotonic() - started < 0.5

    async def test_from_registry_by_host(self, scheduler: DockerScheduler):
        info = await scheduler.pull("127.0.0.1:5000/test/web", always=True)
        assert info.image == "127.0.0.1:5000/test/web:latest"
        assert info.exposed_ports == [8080]

    @pytest.mark.parametrize("image", ["test/does-not-exist", "test/web:no-such-tag", "127.0.0.1:5000/test/nope"])
    async def test_missing_image(self, scheduler: DockerScheduler, image):
        with pytest.raises(ImageNotFound) as err:
            await scheduler.pull(image)
        assert image_reference(image) in err.value.message

    async def test_unreachable_registry(self, scheduler: DockerScheduler):
        with pytest.raises(ImagePullFailed) as err:
            await scheduler.pull("127.0.0.1:5999/test/web")
        assert "connection refused" in err.value.message


class TestPullWithAuth:
    async def test_credentials(self, scheduler: DockerScheduler, private_registry: PrivateRegistry):
        reg = private_registry
        info = await scheduler.pull(reg.image, RegistryAuth(reg.username, reg.password), always=True)
        assert info == ImageInfo(reg.image + ":latest", [8080], None, WEB_CMD)

    async def test_explicit_hostname(self, scheduler: DockerScheduler, private_registry: PrivateRegistry):
        reg = private_registry
        auth = RegistryAuth(reg.username, reg.password, hostname=reg.host)
        assert (await scheduler.pull(reg.image, auth, always=True)).exposed_ports == [8080]

    async def test_docker_hub_name_with_credentials(self, scheduler: DockerScheduler):
        # Hub-style names get an explicit docker.io host for the auth header; served by the mirror here.
        info = await scheduler.pull("gabrtv/example-go", RegistryAuth("someone", "secret"), always=True)
        assert info.image == "gabrtv/example-go:latest"
        assert info.exposed_ports == [8080]

    async def test_no_credentials(self, scheduler: DockerScheduler, private_registry: PrivateRegistry):
        with pytest.raises(ImagePullFailed) as err:
            await scheduler.pull(private_registry.image + ":latest", always=True)
        assert "no basic auth credentials" in err.value.message

    async def test_wrong_password(self, scheduler: DockerScheduler, private_registry: PrivateRegistry):
        reg = private_registry
        with pytest.raises(ImagePullFailed) as err:
            await scheduler.pull(reg.image, RegistryAuth(reg.username, "wrong"), always=True)
        assert "unauthorized" in err.value.message

    async def test_missing_image(self, scheduler: DockerScheduler, private_registry: PrivateRegistry):
        reg = private_registry
        with pytest.raises(ImageNotFound) as err:
            await scheduler.pull(f"{reg.host}/private/nope", RegistryAuth(reg.username, reg.password))
        assert f"{reg.host}/private/nope:latest" in err.value.message


class TestStart:
    async def test_three_containers(self, scheduler: DockerScheduler, docker: aiodocker.Docker, app_name: str):
        containers = await scheduler.start(spec(app_name, version=4, env={"FOO": "bar baz"}), 3)
        assert len(containers) == 3
        assert len({c.id for c in containers}) == 3
        name_re = re.compile(rf"^{app_name}-cmd-[0-9]{{10}}-[a-z0-9]{{5}}$")
        hashes = set()
        for c in containers:
            assert name_re.match(c.name), c.name
            hashes.add(c.name.split("-")[2])
            assert (c.app, c.proc_type, c.version, c.state) == (app_name, "cmd", 4, "up")
            assert c.started is not None and c.started.tzinfo is not None
            assert abs(datetime.now(UTC) - c.started) < timedelta(seconds=30)
            assert c.address and c.exit_code is None

            info = await docker.containers.container(c.id).show()
            assert info["State"]["Running"]
            assert info["Config"]["Labels"] == {
                "deis.app": app_name,
                "deis.type": "cmd",
                "deis.version": "v4",
                "heritage": "deis",
            }
            host = info["HostConfig"]
            assert host["Init"] is True
            assert not host["PortBindings"]
            assert not host["PublishAllPorts"]
            assert host["RestartPolicy"]["Name"] in ("no", "")
            assert info["NetworkSettings"]["Ports"] in ({}, {"8080/tcp": None})
            assert list(info["NetworkSettings"]["Networks"]) == [scheduler.network]
            assert info["NetworkSettings"]["Networks"][scheduler.network]["IPAddress"] == c.address
            assert "FOO=bar baz" in info["Config"]["Env"]
            assert info["Config"]["StopTimeout"] == 30
        assert len(hashes) == 1

    async def test_reachable_by_address(self, scheduler: DockerScheduler, app_name: str):
        containers = await scheduler.start(spec(app_name, env={"GREETING": "hello"}), 2)
        hosts = set()
        for c in containers:
            r = await http_get(f"http://{c.address}:8080/")
            assert r.status_code == 200
            assert "Powered by Workflow" in r.text
            env = (await http_get(f"http://{c.address}:8080/cgi-bin/env")).text
            assert "GREETING=hello" in env
            hosts.add((await http_get(f"http://{c.address}:8080/cgi-bin/host")).text.strip())
        assert hosts == {c.name for c in containers}  # the hostname is the pod name

    async def test_command_and_entrypoint(self, scheduler: DockerScheduler, app_name: str, docker):
        s = spec(app_name, proc_type="worker", entrypoint=["/bin/bash", "-c"], command=["echo $MSG; sleep 60"])
        s = ContainerSpec(**{**s.__dict__, "env": {"MSG": "from worker"}})
        [c] = await scheduler.start(s, 1)
        info = await docker.containers.container(c.id).show()
        assert info["Config"]["Entrypoint"] == ["/bin/bash", "-c"]
        assert info["Config"]["Cmd"] == ["echo $MSG; sleep 60"]
        lines = await wait_for(lambda: scheduler.logs(c, 10))
        assert lines[-1][1] == "from worker"

    async def test_resources_reach_host_config(self, scheduler: DockerScheduler, app_name: str, docker):
        res = Resources(
            memory_limit=128 * 1024**2, memory_reservation=64 * 1024**2, nano_cpus=500_000_000, cpu_shares=512
        )
        [c] = await scheduler.start(spec(app_name, resources=res, stop_grace_seconds=7), 1)
        info = await docker.containers.container(c.id).show()
        host = info["HostConfig"]
        assert host["Memory"] == 128 * 1024**2
        assert host["MemoryReservation"] == 64 * 1024**2
        assert host["NanoCpus"] == 500_000_000
        assert host["CpuShares"] == 512
        assert info["Config"]["StopTimeout"] == 7

    async def test_routing_port_label(self, scheduler: DockerScheduler, app_name: str, docker):
        [c] = await scheduler.start(spec(app_name, port=8080), 1)
        assert c.port == 8080
        info = await docker.containers.container(c.id).show()
        assert info["Config"]["Labels"]["deis.port"] == "8080"
        assert [x.port for x in await scheduler.list(app_name)] == [8080]

    async def test_zero(self, scheduler: DockerScheduler, app_name: str):
        assert await scheduler.start(spec(app_name), 0) == []

    async def test_no_command_fails_and_leaves_nothing(self, scheduler: DockerScheduler, app_name: str):
        with pytest.raises(SchedulerError) as err:
            await scheduler.start(spec(app_name, image="test/nocmd"), 2)
        assert not isinstance(err.value, EngineUnavailable)
        assert "command" in err.value.message.lower()
        assert await scheduler.list(app_name) == []

    async def test_bad_executable_crashes(self, scheduler: DockerScheduler, app_name: str):
        # With the engine's init as PID 1 the exec failure happens inside the container: it starts, then
        # exits 127 with init's message in its log (the services see `crashed`, not an engine error).
        await scheduler.start(spec(app_name, command=["/no/such/binary"]), 1)

        async def crashed():
            [c] = await scheduler.list(app_name)
            return c if c.state == "crashed" else None

        c = await wait_for(crashed)
        assert c.exit_code == 127
        assert "/no/such/binary" in " ".join(t for _, t in await scheduler.logs(c, 10))

    async def test_missing_image_is_pulled(self, scheduler: DockerScheduler, app_name: str, docker):
        # Image removed from the engine (e.g. pruned) between deploy and a reconcile: start pulls it again.
        image = "gabrtv/example-go:latest"
        await scheduler.pull(image)
        try:
            await docker.images.delete(image)
        except aiodocker.DockerError as exc:
            if exc.status != 409:  # used by another container: then it is still present; nothing to test
                raise
            pytest.skip("image in use elsewhere")
        [c] = await scheduler.start(spec(app_name, image="gabrtv/example-go"), 1)
        assert c.state == "up"


class TestList:
    async def test_filters(self, scheduler: DockerScheduler, app_name: str):
        other = app_name + "x"
        try:
            await asyncio.gather(
                scheduler.start(spec(app_name, proc_type="web", version=1), 2),
                scheduler.start(spec(app_name, proc_type="web", version=2), 1),
                scheduler.start(spec(app_name, proc_type="worker", version=2), 1),
                scheduler.start(spec(other, proc_type="web", version=1), 1),
            )
            assert len(await scheduler.list(app_name)) == 4
            assert len(await scheduler.list(app_name, "web")) == 3
            assert len(await scheduler.list(app_name, "web", 2)) == 1
            assert len(await scheduler.list(app_name, version=2)) == 2
            assert [c.app for c in await scheduler.list(other)] == [other]
            everything = await scheduler.list()
            assert {app_name, other} <= {c.app for c in everything}
            listed = await scheduler.list(app_name)
            starts = [c.started for c in listed]
            assert starts == sorted(starts, reverse=True)  # newest first
        finally:
            await scheduler.remove(await scheduler.list(other), 1)

    async def test_running_containers_are_listed_without_inspecting(self, scheduler: DockerScheduler,
                                                                     app_name: str, monkeypatch):
        await scheduler.start(spec(app_name), 3)
        fresh = DockerScheduler(scheduler._docker, network=scheduler.network)  # has seen none of them
        first = await fresh.list(app_name)  # inspects each once (start times)
        inspected: list[str] = []
        real = fresh._inspect_container

        async def counting(ref: str):
            inspected.append(ref)
            return await real(ref)

        monkeypatch.setattr(fresh, "_inspect_container", counting)
        again = await fresh.list(app_name)
        assert inspected == []  # one engine call: the listing
        assert again == first  # the same view as from inspects
        assert all(c.state == "up" and c.address and c.started for c in again)

    async def test_get(self, scheduler: DockerScheduler, app_name: str):
        [c] = await scheduler.start(spec(app_name), 1)
        assert (await scheduler.get(c.id)).name == c.name
        assert (await scheduler.get(c.name)).id == c.id
        assert await scheduler.get("no-such-container-anywhere") is None

    async def test_foreign_containers_are_invisible(self, scheduler: DockerScheduler, docker, app_name: str):
        foreign = await docker.containers.create(
            {"Image": "test/web:latest", "Labels": {"deis.app": app_name}}, name=f"{app_name}-foreign"
        )
        try:
            assert await scheduler.list(app_name) == []
            assert await scheduler.get(foreign.id) is None
        finally:
            await foreign.delete(force=True)

    async def test_crashed_container(self, scheduler: DockerScheduler, app_name: str):
        await scheduler.start(spec(app_name, image="test/crash"), 1)

        async def crashed():
            [c] = await scheduler.list(app_name)
            return c if c.state == "crashed" else None

        c = await wait_for(crashed)
        assert c.exit_code == 1
        assert c.address is None
        lines = await scheduler.logs(c, 10)
        assert [t for _, t in lines] == ["fatal: crash image exits at once"]

    async def test_clean_exit_is_down(self, scheduler: DockerScheduler, app_name: str):
        await scheduler.start(spec(app_name, entrypoint=["/bin/bash", "-c"], command=["exit 0"]), 1)

        async def down():
            [c] = await scheduler.list(app_name)
            return c if c.state == "down" else None

        assert (await wait_for(down)).exit_code == 0


class TestRemove:
    async def test_remove(self, scheduler: DockerScheduler, app_name: str):
        containers = await scheduler.start(spec(app_name), 3)
        await scheduler.remove(containers[:2], 5)
        remaining = await scheduler.list(app_name)
        assert [c.id for c in remaining] == [containers[2].id]

    async def test_idempotent(self, scheduler: DockerScheduler, app_name: str):
        containers = await scheduler.start(spec(app_name), 2)
        await scheduler.remove(containers, 5)
        await scheduler.remove(containers, 5)  # already gone: fine
        assert await scheduler.list(app_name) == []

    async def test_removes_exited_containers(self, scheduler: DockerScheduler, app_name: str):
        await scheduler.start(spec(app_name, image="test/crash"), 1)
        await wait_for(lambda: _all_exited(scheduler, app_name))
        await scheduler.remove(await scheduler.list(app_name), 5)
        assert await scheduler.list(app_name) == []

    async def test_sigterm_reaches_the_app_well_within_grace(self, scheduler: DockerScheduler, app_name: str):
        containers = await scheduler.start(spec(app_name, stop_grace_seconds=20), 5)
        # As in a deploy, the app is up (its signal handling in place) before it is stopped.
        for c in containers:
            await wait_for(lambda c=c: _accepts(c.address, 8080), 10)
        started = time.monotonic()
        await scheduler.remove(containers, 20)
        elapsed = time.monotonic() - started
        assert elapsed < 5, f"stopping 5 containers took {elapsed:.1f}s (grace 20s)"
        assert await scheduler.list(app_name) == []

    async def test_grace_is_honoured_then_killed(self, scheduler: DockerScheduler, app_name: str):
        # bash traps TERM and keeps running: the engine must SIGKILL after the grace period.
        cmd = ["trap '' TERM; while :; do sleep 0.1; done"]
        [c] = await scheduler.start(spec(app_name, entrypoint=["/bin/bash", "-c"], command=cmd), 1)
        started = time.monotonic()
        await scheduler.remove([c], 2)
        elapsed = time.monotonic() - started
        assert 1.5 < elapsed < 10
        assert await scheduler.get(c.id) is None


async def _all_exited(scheduler: DockerScheduler, app: str) -> bool:
    containers = await scheduler.list(app)
    return bool(containers) and all(c.state in ("down", "crashed") for c in containers)


class TestLogs:
    async def test_timestamps_and_tail(self, scheduler: DockerScheduler, app_name: str):
        cmd = ["for i in 1 2 3 4 5; do echo out $i; echo err $i >&2; done; sleep 60"]
        [c] = await scheduler.start(spec(app_name, entrypoint=["/bin/bash", "-c"], command=cmd), 1)
        lines = await wait_for(lambda: _logs_with(scheduler, c, 100, 10))
        assert sorted(t for _, t in lines) == sorted(
            [f"out {i}" for i in range(1, 6)] + [f"err {i}" for i in range(1, 6)]
        )
        for when, _ in lines:
            assert when.tzinfo is not None
            assert abs(datetime.now(UTC) - when) < timedelta(minutes=1)
        assert [w for w, _ in lines] == sorted(w for w, _ in lines)
        assert len(await scheduler.logs(c, 3)) == 3
        assert await scheduler.logs(c, 0) == []

    async def test_http_access_is_not_required(self, scheduler: DockerScheduler, app_name: str):
        [c] = await scheduler.start(spec(app_name), 1)
        assert await scheduler.logs(c, 10) == []  # httpd -f logs nothing by default

    async def test_gone_container(self, scheduler: DockerScheduler, app_name: str):
        [c] = await scheduler.start(spec(app_name), 1)
        await scheduler.remove([c], 1)
        assert await scheduler.logs(c, 10) == []


async def _logs_with(scheduler, c, tail, n):
    lines = await scheduler.logs(c, tail)
    return lines if len(lines) >= n else None


class TestRunOnce:
    def run_spec(self, app: str, command: str, **kw) -> ContainerSpec:
        return spec(app, proc_type="run", entrypoint=["/bin/bash", "-c"], command=[command], **kw)

    async def test_output_and_exit_code(self, scheduler: DockerScheduler, app_name: str):
        code, output = await scheduler.run_once(
            self.run_spec(app_name, "echo hello $WHO; echo oops >&2; exit 3", env={"WHO": "world"}), 30
        )
        assert code == 3
        # stdout and stderr are separate pipes: the engine keeps each one's order, not their interleaving
        assert sorted(output.splitlines(keepends=True)) == ["hello world\n", "oops\n"]
        assert await scheduler.list(app_name) == []  # removed

    async def test_success(self, scheduler: DockerScheduler, app_name: str):
        assert await scheduler.run_once(self.run_spec(app_name, "ls /www"), 30) == (0, "cgi-bin\nindex.html\n")

    async def test_timeout_kills_and_removes(self, scheduler: DockerScheduler, app_name: str):
        started = time.monotonic()
        with pytest.raises(SchedulerError) as err:
            await scheduler.run_once(self.run_spec(app_name, "sleep 30"), 1)
        assert "timed out" in err.value.message
        assert time.monotonic() - started < 10
        assert await scheduler.list(app_name) == []

    async def test_cancelled_caller_leaves_nothing(self, scheduler: DockerScheduler, app_name: str):
        task = asyncio.create_task(scheduler.run_once(self.run_spec(app_name, "sleep 30"), 60))
        await wait_for(lambda: scheduler.list(app_name))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await scheduler.list(app_name) == []

    async def test_bad_image(self, scheduler: DockerScheduler, app_name: str):
        with pytest.raises(ImageNotFound):
            await scheduler.run_once(self.run_spec(app_name, "true", image="test/not-there"), 10)


class TestEvents:
    async def test_die_event_on_kill(self, scheduler: DockerScheduler, docker, app_name: str):
        seen: list[EngineEvent] = []
        got_die = asyncio.Event()

        async def consume():
            async for ev in scheduler.events():
                if ev.app == app_name:
                    seen.append(ev)
                    if ev.action == "die":
                        got_die.set()
                        return

        task = asyncio.create_task(consume())
        try:
            [c] = await scheduler.start(spec(app_name, version=9), 1)
            await asyncio.sleep(0.5)  # the subscription is live before the kill
            await docker.containers.container(c.id).kill()
            await asyncio.wait_for(got_die.wait(), 10)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        die = seen[-1]
        assert die.container_id == c.id
        assert (die.app, die.proc_type, die.version, die.name) == (app_name, "cmd", 9, c.name)
        assert die.exit_code == 137
        assert die.time.tzinfo is not None
        assert {e.action for e in seen} >= {"kill", "die"}

    async def test_stream_ends_with_engine_unavailable(self):
        sched = DockerScheduler.from_url("unix:///nonexistent/docker.sock")
        try:
            with pytest.raises(EngineUnavailable):
                async with asyncio.timeout(10):
                    async for _ in sched.events():
                        pass
        finally:
            await sched.close()


async def _accepts(address: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), 1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True
