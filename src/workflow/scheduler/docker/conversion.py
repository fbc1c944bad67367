"""Engine JSON ↔ the contract's dataclasses: container inspects and listings → `Container`, events →
`EngineEvent`, image inspects → `ImageInfo`, a `ContainerSpec` → the create body (labels record ownership)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ...domain import naming
from ...domain.images import image_reference
from ..base import (
    HERITAGE,
    LABEL_APP,
    LABEL_HERITAGE,
    LABEL_PORT,
    LABEL_TYPE,
    LABEL_VERSION,
    Container,
    ContainerSpec,
    EngineEvent,
    ImageInfo,
)
from .engine import ContainerLimits

#: Engine state -> Deis pod state (spec §7, "Pods" row). `exited` depends on the exit code.
_STATES = {
    "created": "starting",
    "running": "up",
    "restarting": "crashed",
    "removing": "terminating",
    "paused": "down",
    "dead": "crashed",
}


def parse_time(value: str | None) -> datetime | None:
    """Engine RFC 3339 (nanoseconds) -> aware UTC datetime; the zero time -> None."""
    if not value or value.startswith("0001-01-01"):
        return None
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", value)
    if m is None:
        return None
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{tz}").astimezone(UTC)


def as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def deis_state(engine_state: str, exit_code: int | None) -> str:
    """Engine `State.Status` -> Deis pod state (spec §7)."""
    if engine_state == "exited":
        return "down" if exit_code == 0 else "crashed"
    return _STATES.get(engine_state, "error")


def image_info(ref: str, data: dict[str, Any]) -> ImageInfo:
    """What deploy validation needs from an image inspect."""
    config = data.get("Config") or {}
    ports = sorted(
        int(port)
        for port, proto in (key.partition("/")[::2] for key in (config.get("ExposedPorts") or {}))
        if (proto or "tcp") == "tcp" and port.isdigit()
    )
    return ImageInfo(image=ref, exposed_ports=ports, entrypoint=as_list(config.get("Entrypoint")),
                     cmd=as_list(config.get("Cmd")))


def summary_info(summary: dict[str, Any], started_at: str | None) -> dict[str, Any]:
    """A `GET /containers/json` entry in the shape of an inspect, for `_to_container` (running or created
    containers only: the listing has no exit code and no OOM flag)."""
    names = summary.get("Names") or [""]
    name = next((n for n in names if n.count("/") == 1), names[0])  # not a legacy link alias
    return {
        "Id": summary["Id"],
        "Name": name,
        "Config": {"Labels": summary.get("Labels") or {}},
        "NetworkSettings": summary.get("NetworkSettings") or {},
        "HostConfig": summary.get("HostConfig") or {},
        "State": {"Status": summary.get("State", ""), "StartedAt": started_at},
    }


def to_container(info: dict[str, Any], network: str, terminating: set[str]) -> Container | None:
    """Contract view of an inspected container; None unless it is a deis container on our network."""
    labels = (info.get("Config") or {}).get("Labels") or {}
    if labels.get(LABEL_HERITAGE) != HERITAGE or LABEL_APP not in labels:
        return None
    networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
    if network not in networks and (info.get("HostConfig") or {}).get("NetworkMode") != network:
        return None
    state = info.get("State") or {}
    status = state.get("Status", "")
    running = status in ("running", "restarting", "paused")
    exit_code = None if running or status == "created" else state.get("ExitCode")
    deis = deis_state(status, exit_code)
    if info["Id"] in terminating and deis in ("up", "starting"):
        deis = "terminating"
    address = (networks.get(network) or {}).get("IPAddress") or None
    return Container(
        id=info["Id"],
        name=info.get("Name", "").lstrip("/"),
        app=labels[LABEL_APP],
        proc_type=labels.get(LABEL_TYPE, ""),
        version=naming.parse_version(labels.get(LABEL_VERSION, "")) or 0,
        state=deis,
        started=parse_time(state.get("StartedAt")),
        address=address,
        exit_code=exit_code,
        oom_killed=bool(state.get("OOMKilled")),
        port=int(labels[LABEL_PORT]) if labels.get(LABEL_PORT, "").isdigit() else None,
    )


def create_config(spec: ContainerSpec, name: str, network: str, limits: ContainerLimits) -> dict[str, Any]:
    res = spec.resources
    host_config: dict[str, Any] = {
        "Init": True,
        "NetworkMode": network,
        "RestartPolicy": {"Name": "no"},
        "PortBindings": {},
        "PublishAllPorts": False,
        # Tenants share the engine: bounded processes and log files, no raw sockets (ARP/ICMP spoofing on
        # the bridge), no privilege gained through setuid binaries.
        "PidsLimit": limits.pids_limit,
        "LogConfig": {"Type": "json-file",
                      "Config": {"max-size": limits.log_max_size, "max-file": str(limits.log_max_files)}},
        "CapDrop": ["NET_RAW"],
        "SecurityOpt": ["no-new-privileges"],
    }
    for key, value in (
        ("Memory", res.memory_limit),
        ("MemoryReservation", res.memory_reservation),
        ("NanoCpus", res.nano_cpus),
        # A CPU request is a weight against every other tenant's containers: bounded.
        ("CpuShares", min(res.cpu_shares, limits.max_cpu_shares) if res.cpu_shares is not None else None),
    ):
        if value is not None:
            host_config[key] = int(value)
    config: dict[str, Any] = {
        "Image": image_reference(spec.image),
        "Env": [f"{k}={v}" for k, v in spec.env.items()],
        "Labels": {
            **naming.pod_labels(spec.app, spec.proc_type, spec.version),
            **({LABEL_PORT: str(spec.port)} if spec.port else {}),
        },
        "StopTimeout": int(spec.stop_grace_seconds),
        "HostConfig": host_config,
        "NetworkingConfig": {"EndpointsConfig": {network: {}}},
    }
    if len(name) <= 63:  # like a Kubernetes pod, the hostname is the pod name when it fits
        config["Hostname"] = name
    if spec.entrypoint is not None:
        config["Entrypoint"] = list(spec.entrypoint)
    if spec.command is not None:
        config["Cmd"] = list(spec.command)
    return config


def to_event(data: dict[str, Any]) -> EngineEvent | None:
    actor = data.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    if attrs.get(LABEL_HERITAGE) != HERITAGE or LABEL_APP not in attrs:
        return None
    if "timeNano" in data:
        when = datetime.fromtimestamp(int(data["timeNano"]) / 1e9, UTC)
    else:
        when = datetime.now(UTC)
    exit_code = attrs.get("exitCode")
    return EngineEvent(
        action=str(data.get("Action") or data.get("status") or ""),
        container_id=str(actor.get("ID") or data.get("id") or ""),
        app=attrs[LABEL_APP],
        proc_type=attrs.get(LABEL_TYPE, ""),
        version=naming.parse_version(attrs.get(LABEL_VERSION, "")) or 0,
        name=attrs.get("name", ""),
        exit_code=int(exit_code) if exit_code is not None and str(exit_code).lstrip("-").isdigit() else None,
        time=when,
    )
