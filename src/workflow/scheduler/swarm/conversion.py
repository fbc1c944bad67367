"""Swarm JSON ↔ the contract's dataclasses: a `ContainerSpec` → a service spec (one service per replica set),
a task → `Container`."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ...domain import naming
from ...domain.images import image_reference
from ..base import HERITAGE, LABEL_APP, LABEL_HERITAGE, LABEL_PORT, LABEL_TYPE, LABEL_VERSION, Container, ContainerSpec
from ..docker.conversion import parse_time
from ..docker.engine import ContainerLimits

#: The label holding a digest of the task template: a replica set asked for with another spec is updated.
LABEL_SPEC = "deis.spec"

#: Swarm task state → Deis pod state (spec §7). Everything before `running` is starting.
_STATES = {
    "new": "starting", "allocated": "starting", "pending": "starting", "assigned": "starting",
    "accepted": "starting", "preparing": "starting", "ready": "starting", "starting": "starting",
    "running": "up", "complete": "down", "shutdown": "down", "orphaned": "down", "remove": "terminating",
    "failed": "crashed", "rejected": "crashed",
}


def service_name(app: str, proc_type: str, version: int) -> str:
    return f"{app}-{proc_type}-{naming.version_label(version)}"


def constraints(tags: dict[str, str]) -> list[str]:
    """`deis tags:set KEY=VALUE` → a placement constraint on node labels (Deis's nodeSelector)."""
    return [f"node.labels.{key}=={value}" for key, value in sorted(tags.items())]


def service_spec(spec: ContainerSpec, network: str, limits: ContainerLimits) -> dict[str, Any]:
    """The `POST /services/create` body of the spec's replica set (replicas set by the caller)."""
    res = spec.resources
    container: dict[str, Any] = {
        "Image": image_reference(spec.image),
        "Env": [f"{k}={v}" for k, v in spec.env.items()],
        "Labels": {**naming.pod_labels(spec.app, spec.proc_type, spec.version),
                   **({LABEL_PORT: str(spec.port)} if spec.port else {})},
        "Init": True,  # SIGTERM reaches the app
        "StopGracePeriod": int(spec.stop_grace_seconds) * 1_000_000_000,  # nanoseconds
        # Tenants share the nodes: no privilege gained through setuid binaries, no raw sockets.
        "Privileges": {"NoNewPrivileges": True},
        "CapabilityDrop": ["CAP_NET_RAW"],
    }
    if spec.entrypoint is not None:
        container["Command"] = list(spec.entrypoint)  # Swarm's Command is the entrypoint, Args the CMD
    if spec.command is not None:
        container["Args"] = list(spec.command)
    resources: dict[str, Any] = {"Limits": {"Pids": limits.pids_limit}, "Reservations": {}}
    if res.memory_limit is not None:
        resources["Limits"]["MemoryBytes"] = int(res.memory_limit)
    if res.nano_cpus is not None:
        resources["Limits"]["NanoCPUs"] = int(res.nano_cpus)
    if res.memory_reservation is not None:
        resources["Reservations"]["MemoryBytes"] = int(res.memory_reservation)
    template: dict[str, Any] = {
        "ContainerSpec": container,
        "Resources": resources,
        # Swarm replaces a task whose process failed; one that exits 0 (`down`) stays down, like Deis.
        "RestartPolicy": {"Condition": "on-failure", "Delay": 1_000_000_000},
        "Placement": {"Constraints": constraints(getattr(spec, "tags", None) or {})},
        "Networks": [{"Target": network}],
        "LogDriver": {"Name": "json-file",
                      "Options": {"max-size": limits.log_max_size, "max-file": str(limits.log_max_files)}},
    }
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:16]
    container["Labels"][LABEL_SPEC] = digest
    return {
        "Name": service_name(spec.app, spec.proc_type, spec.version),
        "Labels": {**naming.pod_labels(spec.app, spec.proc_type, spec.version), LABEL_SPEC: digest,
                   **({LABEL_PORT: str(spec.port)} if spec.port else {})},
        "TaskTemplate": template,
        "Mode": {"Replicated": {"Replicas": 0}},
        # A changed spec of the same release replaces every task at once; a failing one does not pause it.
        "UpdateConfig": {"Parallelism": 0, "FailureAction": "continue", "Order": "stop-first"},
        # No VIP: this kernel (and many) lack IPVS; the router and probes reach tasks by their addresses.
        "EndpointSpec": {"Mode": "dnsrr"},
    }


def spec_digest(task_or_service_spec: dict[str, Any]) -> str | None:
    labels = ((task_or_service_spec.get("ContainerSpec") or {}).get("Labels")) or {}
    return labels.get(LABEL_SPEC)


def deis_state(task: dict[str, Any]) -> str:
    state = (task.get("Status") or {}).get("State", "")
    deis = _STATES.get(state, "error")
    if deis in ("up", "starting") and task.get("DesiredState") in ("shutdown", "remove"):
        return "terminating"
    return deis


def to_container(task: dict[str, Any], network_id: str, nodes: dict[str, str]) -> Container | None:
    """Contract view of a task; None unless its container spec carries our labels. `nodes`: id → hostname."""
    spec = task.get("Spec") or {}
    labels = (spec.get("ContainerSpec") or {}).get("Labels") or {}
    if labels.get(LABEL_HERITAGE) != HERITAGE or LABEL_APP not in labels:
        return None
    app, proc_type = labels[LABEL_APP], labels.get(LABEL_TYPE, "")
    version = naming.parse_version(labels.get(LABEL_VERSION, "")) or 0
    status = task.get("Status") or {}
    state = deis_state(task)
    address = None
    # Swarm allocates the address before the task's container exists; until it runs, a connection there waits
    # for a neighbour that never answers (the readiness check's 1 s timeout, each attempt), so none is given.
    for attachment in task.get("NetworksAttachments") or [] if status.get("State") == "running" else []:
        if (attachment.get("Network") or {}).get("ID") == network_id and attachment.get("Addresses"):
            address = attachment["Addresses"][0].partition("/")[0]
    # a rejected task never ran (its node could not pull the image, ...): no exit code, Status.Err says why
    exit_code = ((status.get("ContainerStatus") or {}).get("ExitCode")
                 if state in ("crashed", "down") and status.get("State") != "rejected" else None)
    started = parse_time(status.get("Timestamp")) if status.get("State") == "running" else None
    return Container(
        id=task["ID"],
        name=naming.pod_name(app, proc_type, version, suffix=task["ID"][:5]),
        app=app, proc_type=proc_type, version=version, state=state, started=started, address=address,
        exit_code=exit_code, port=int(labels[LABEL_PORT]) if labels.get(LABEL_PORT, "").isdigit() else None,
        node=nodes.get(task.get("NodeID", "")),
        error=status.get("Err") or None,
    )
