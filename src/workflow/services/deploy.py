"""The deploy path (DESIGN.md "Deploy, step by step"): what a release runs, and rolling it out.

start the new containers → wait until the routable ones accept connections at their network address →
switch the router → stop the previous containers with their grace period. On failure the new containers
are removed and nothing that served before stops serving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from ..domain.configrules import MAX_DEPLOY_TIMEOUT
from ..domain.procfile import ROUTABLE_TYPES
from ..errors import BadRequest, ServiceUnavailable
from ..metrics import DEPLOY_SECONDS, timed
from ..models import App, Build, Config, Release
from ..scheduler.base import Container, ContainerSpec, ImageInfo, Resources, SchedulerError
from ..scheduler.images import pinned
from ..schemas import format_time
from .deploy_events import QUIET, DeployEvents, listening_ports
from .health import probe_for, wait_probe

log = logging.getLogger("workflow.deploy")

RUN_TYPE = "run"


class DeployError(Exception):
    """The new release's containers did not come up; the message says why."""


@dataclass
class Plan:
    """What a release runs: one container spec per process type, and how many of each."""

    version: int
    specs: dict[str, ContainerSpec]
    structure: dict[str, int]
    timeout: float
    batches: int | None
    grace: int
    readiness: dict[str, dict] = field(default_factory=dict)  # proc type -> readiness probe


def _int_value(values: dict, key: str, default: int | float | None) -> int | float | None:
    try:
        return type(default)(values[key]) if default is not None else int(values[key])
    except (KeyError, TypeError, ValueError):
        return default


def release_port(config: Config, image: ImageInfo | None, routable: bool) -> int | None:
    """`Release.get_port`, except that several exposed ports are refused instead of guessed."""
    values = config.values or {}
    if "PORT" in values:
        return int(values["PORT"])
    if config.registry_info and routable:
        raise BadRequest("PORT needs to be set in the application config when using a private registry")
    ports = image.exposed_ports if image else []
    if len(ports) == 1:
        return ports[0]
    if not routable:
        return None
    if not ports:
        raise BadRequest(f"Expose a port or make the app non routable by changing the process type: the image "
                         f"{image.image if image else ''} exposes no port; add EXPOSE to it or run "
                         f"`deis config:set PORT=<port>`")
    listed = ", ".join(str(p) for p in ports)
    raise BadRequest(f"The image {image.image} exposes several ports ({listed}): run `deis config:set PORT=<port>` "
                     f"to choose the one the router sends traffic to")


def image_of(build: Build) -> str:
    """What a build's containers run: `name@digest`, pinned when the build was made, so that scale-ups,
    restarts, replacements and rollbacks run the same content whatever the tag names now (and need no registry
    once the engine holds it). A build made before digests were recorded runs its image by tag."""
    return pinned(build.image, build.digest) if build.digest else build.image


def env_for(app: App, release: Release, build: Build, config: Config, port: int | None) -> dict[str, str]:
    """`App._build_env_vars`, then the user's values override."""
    env = {
        "DEIS_APP": app.id,
        "WORKFLOW_RELEASE": f"v{release.version}",
        "WORKFLOW_RELEASE_SUMMARY": release.summary,
        "WORKFLOW_RELEASE_CREATED_AT": format_time(release.created) or "",
    }
    if build.sha:
        env["SOURCE_VERSION"] = build.sha
    if port is not None:
        env["PORT"] = str(port)
    env.update({key: str(value) for key, value in (config.values or {}).items()})
    return env


def parse_memory(value: str) -> tuple[int | None, int | None]:
    """`512M` or `256M/1G` (request/limit), powers of 1024 → (reservation, limit) in bytes."""
    units = {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}

    def size(text: str) -> int:
        text = text.upper().rstrip("B") or "0"
        if text[-1] in units:
            return int(text[:-1]) * units[text[-1]]
        return int(text)

    parts = str(value).split("/")
    if len(parts) == 2:
        return size(parts[0]) or None, size(parts[1]) or None
    limit = size(parts[0])
    return None, limit or None


def parse_cpu(value: str) -> tuple[float | None, float | None]:
    """`500m` = 0.5 cores; `250m/1` = request/limit → (request, limit) in cores."""

    def cores(text: str) -> float:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)

    parts = str(value).split("/")
    if len(parts) == 2:
        return cores(parts[0]), cores(parts[1])
    return None, cores(parts[0])


def resources_for(config: Config, proc_type: str) -> Resources:
    memory = (config.memory or {}).get(proc_type)
    cpu = (config.cpu or {}).get(proc_type)
    reservation = limit = None
    nano_cpus = shares = None
    if memory:
        reservation, limit = parse_memory(memory)
    if cpu:
        request, cpu_limit = parse_cpu(cpu)
        nano_cpus = int(cpu_limit * 1e9) if cpu_limit else None
        shares = max(int(request * 1024), 2) if request else None
    return Resources(memory_limit=limit, memory_reservation=reservation, nano_cpus=nano_cpus, cpu_shares=shares)


def command_for(proc_type: str, build: Build, image: ImageInfo | None) -> tuple[list[str] | None, list[str] | None]:
    """(entrypoint, cmd): `cmd` keeps the image's entrypoint (CMD from the procfile if given);
    other types run `/bin/bash -c <command>`."""
    procfile = build.procfile or {}
    if proc_type == "cmd":
        if "cmd" in procfile:
            return None, procfile["cmd"].split()
        if image is not None and not image.cmd and not image.entrypoint:
            raise BadRequest(f"The image {build.image} has no CMD or ENTRYPOINT: add one to the image, or give "
                             f"the cmd process a command in the procfile")
        return None, None
    if proc_type not in procfile:
        raise BadRequest(f"Container type {proc_type} does not exist in application")
    return ["/bin/bash", "-c"], [procfile[proc_type]]


def plan(app: App, release: Release, build: Build, config: Config, image: ImageInfo | None,
         structure: dict[str, int], routable: bool, settings) -> Plan:
    """Checks everything that can be checked before a container starts (400 on failure)."""
    runs_routable = any(structure.get(t, 0) > 0 for t in ROUTABLE_TYPES)
    port = release_port(config, image, routable and runs_routable)
    values = config.values or {}
    grace = _int_value(values, "KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS", settings.stop_grace_seconds)
    specs = {}
    for proc_type, count in sorted(structure.items()):
        if count <= 0:
            continue
        entrypoint, command = command_for(proc_type, build, image)
        specs[proc_type] = ContainerSpec(
            app=app.id, proc_type=proc_type, version=release.version, image=image_of(build),
            env=env_for(app, release, build, config, port), entrypoint=entrypoint, command=command,
            resources=resources_for(config, proc_type), stop_grace_seconds=int(grace),
            port=port if proc_type in ROUTABLE_TYPES and routable else None,
        )
    batches = _int_value(values, "DEIS_DEPLOY_BATCHES", None)
    timeout = float(_int_value(values, "DEIS_DEPLOY_TIMEOUT", settings.deploy_timeout))
    if not 0 < timeout <= MAX_DEPLOY_TIMEOUT:  # inf, nan, 0: stored before the API bounded it (configrules)
        timeout = min(settings.deploy_timeout, MAX_DEPLOY_TIMEOUT)
    readiness = {t: p for t in specs if (p := probe_for(config.healthcheck or {}, t, "readinessProbe"))}
    # A probe's initial delay extends the time a container has to become ready.
    timeout += max((float(p["initialDelaySeconds"]) for p in readiness.values()), default=0.0)
    return Plan(version=release.version, specs=specs, structure=structure, timeout=timeout,
                batches=batches if batches and batches > 0 else None, grace=int(grace), readiness=readiness)


# --- rolling out -------------------------------------------------------------------------------------


async def _tail(scheduler, container: Container, lines: int = 5) -> str:
    try:
        return " ".join(line for _, line in await scheduler.logs(container, lines)).strip()
    except SchedulerError:
        return ""


async def _listening(scheduler, container: Container) -> list[int]:
    """The TCP ports the container's processes listen on (wrong-port diagnosis); [] when unknown."""
    try:
        _, text = await scheduler.exec_output(container, ["cat", "/proc/net/tcp", "/proc/net/tcp6"], 2.0)
    except (SchedulerError, AttributeError):
        return []
    return listening_ports(text)


async def wait_ready(ctx, container: Container, timeout: float, probe: dict | None = None,
                     events: DeployEvents = QUIET) -> None:
    """Until the container's process accepts TCP connections on its port at its network address (or, for
    a container without a port, until it has stayed up for a moment), and its readiness probe passes.
    Raises DeployError."""
    scheduler = ctx.scheduler
    deadline = time.monotonic() + timeout
    settle = time.monotonic() + 1.0
    delay = 0.01  # most processes listen within tens of ms of their start: poll fast first, then back off
    attempt = 0
    while True:
        current = await scheduler.get(container.id)
        if current is None or current.state in ("crashed", "down"):
            code = current.exit_code if current else "unknown"
            tail = await _tail(scheduler, current or container)
            events.crashed(container.name, code, tail, bool(current and current.oom_killed))
            raise DeployError(f"container {container.name} exited with code {code}"
                              + (f": {tail}" if tail else ""))
        if container.port is None:
            if time.monotonic() >= settle and current.state == "up":
                break
        elif current.address:
            attempt += 1
            if await _accepts(current.address, container.port):
                events.probe(container.name, attempt, "accepted", f"port {container.port}")
                break
            if attempt == 1:  # the first refusal, not every poll: the next event says how many it took
                events.probe(container.name, attempt, "refused", f"port {container.port}")
        if time.monotonic() >= deadline:
            if not container.port:
                raise DeployError(f"container is not running after {timeout:g} s ({container.name})")
            listening = await _listening(scheduler, current)
            events.not_listening(container.name, container.port, listening, timeout)
            seen = f": it listens on {', '.join(map(str, listening))}" if listening else ""
            raise DeployError(f"nothing listens on port {container.port} after {timeout:g} s ({container.name})"
                              + seen)
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.1)
    if probe is not None and current.address:
        if not await wait_probe(ctx, current, probe, deadline):
            events.probe_timeout(container.name, timeout)
            raise DeployError(f"readiness probe of {container.name} did not pass within {timeout:g} s")
        events.probe(container.name, 1, "passed", "readiness probe")


async def _accepts(address: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return True


async def start_ready(ctx, spec: ContainerSpec, count: int, timeout: float, batches: int | None = None,
                      probe: dict | None = None, events: DeployEvents = QUIET) -> list[Container]:
    """Start `count` containers of a spec (in batches) and wait until each is ready. On failure the new
    containers are removed and DeployError is raised."""
    started: list[Container] = []
    try:
        remaining = count
        while remaining > 0:
            size = min(batches or remaining, remaining)
            batch = await ctx.scheduler.start(spec, size)
            started += batch
            events.started(spec.proc_type, [c.name for c in batch], len(started), count)
            await asyncio.gather(*(wait_ready(ctx, c, timeout, probe, events) for c in batch))
            remaining -= size
            events.ready(spec.proc_type, len(started), count)
    except (DeployError, SchedulerError, asyncio.CancelledError) as exc:
        await ctx.scheduler.remove(started, grace_seconds=0)
        if isinstance(exc, SchedulerError):
            raise DeployError(exc.message) from exc
        raise
    if ctx.routes is not None:
        ctx.routes.ready.update(c.id for c in started)
    return started


@timed(DEPLOY_SECONDS)
async def roll_out(ctx, app_id: str, deploy_plan: Plan, events: DeployEvents = QUIET) -> None:
    """Bring up the release's containers, switch the router to them, then stop every older container."""
    new: list[Container] = []
    events.planned(deploy_plan.structure)
    try:
        results = await asyncio.gather(
            *(start_ready(ctx, deploy_plan.specs[t], n, deploy_plan.timeout, deploy_plan.batches,
                          deploy_plan.readiness.get(t), events)
              for t, n in sorted(deploy_plan.structure.items()) if n > 0 and t in deploy_plan.specs),
            return_exceptions=True)
        for result in results:
            if isinstance(result, list):
                new += result
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
    except BaseException:
        await ctx.scheduler.remove(new, grace_seconds=0)
        raise
    await switch_and_retire(ctx, app_id, deploy_plan.version, deploy_plan.grace, events)


async def switch_and_retire(ctx, app_id: str, version: int, grace: int, events: DeployEvents = QUIET) -> None:
    if ctx.routes is not None:
        ctx.routes.serving[app_id] = version
        await ctx.routes.sync()
        events.switched()
    old = [c for c in await ctx.scheduler.list(app=app_id) if c.version != version and c.proc_type != RUN_TYPE]
    await retire(ctx, old, grace, events)


async def retire(ctx, containers: list[Container], grace: int, events: DeployEvents = QUIET) -> None:
    """Containers already out of the router: drained of in-flight requests, then SIGTERM, then SIGKILL
    after the grace period."""
    if not containers:
        return
    began = time.monotonic()
    if ctx.routes is not None:
        events.draining([c.name for c in containers])
        await ctx.routes.drain(containers, grace)
    await ctx.scheduler.remove(containers, grace_seconds=grace)
    events.stopped([c.name for c in containers], time.monotonic() - began)
    if ctx.routes is not None:
        ctx.routes.ready.difference_update(c.id for c in containers)


def require_scheduler(ctx) -> None:
    if ctx.scheduler is None:
        raise ServiceUnavailable("No container engine is configured for this controller")
