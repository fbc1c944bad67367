"""What a release runs, worked out before anything starts (pure; 400 when it cannot run).

A `Plan` holds one container spec per process type and how the converge path treats them (timeouts, batches,
grace period, readiness probes). Upstream's rules: `Release.get_port` (`release_port`), `App._build_env_vars`
(`env_for`), Kubernetes-style limits (`parse_memory`, `parse_cpu`), probes from config `healthcheck`
(`probe_for`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadRequest
from ..models import App, Build, Config, Release
from ..scheduler.base import ContainerSpec, ImageInfo, RegistryAuth, Resources
from ..schemas import format_time
from .configrules import MAX_DEPLOY_TIMEOUT, probe_error
from .images import pinned
from .procfile import ROUTABLE_TYPES

log = logging.getLogger("workflow.health")

RUN_TYPE = "run"  # `deis run` containers: hidden from `ps`, never converged, never retired


DEFAULTS = {"initialDelaySeconds": 0, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
            "failureThreshold": 3}


_WARNED: set[tuple[str, str, str]] = set()  # malformed stored probes already logged (once each)


def probe_for(healthcheck: dict[str, Any], proc_type: str, kind: str) -> dict[str, Any] | None:
    """The probe of a kind for a process type: its own key, else `web/cmd` for web and cmd."""
    probes = healthcheck.get(proc_type)
    if probes is None and proc_type in ROUTABLE_TYPES:
        probes = healthcheck.get("web/cmd")
    probe = probes.get(kind) if isinstance(probes, dict) else None
    if not probe:
        return None
    problem = probe_error(probe)
    if problem:  # stored before the rules were as strict as they are (the API refuses it today): not run
        if len(_WARNED) < 1000 and (kind, proc_type, problem) not in _WARNED:
            _WARNED.add((kind, proc_type, problem))
            log.warning("%s of %s not run: %s", kind, proc_type, problem)
        return None
    return {**DEFAULTS, **probe}


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
         structure: dict[str, int], routable: bool, settings, auth: RegistryAuth | None = None) -> Plan:
    """Checks everything that can be checked before a container starts (400 on failure). `auth`: the app's
    registry credentials, carried in each spec for the backend's own pulls."""
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
            tags={k: str(v) for k, v in (config.tags or {}).items()}, registry_auth=auth,
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
