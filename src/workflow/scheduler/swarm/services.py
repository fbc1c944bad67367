"""Replica sets as Swarm services: the overlay network, scale/retire by replica count, tasks listed as
instances, and the node labels that `tags` select on."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from aiodocker.utils import compose_auth_header

from ...domain import naming
from ..base import (
    ENDED,
    HERITAGE,
    LABEL_HERITAGE,
    Container,
    ContainerSpec,
    ReplicaSet,
    SchedulerError,
    unmatched,
)
from ..docker import DockerScheduler
from .conversion import deis_state, service_name, service_spec, spec_digest, to_container

#: How often a wait for Swarm's orchestrator looks again.
POLL = 0.2
#: How long node hostnames (node id → hostname, for the tasks' `node`) are reused without listing the nodes.
NODE_NAMES_TTL = 10.0


class NoMatchingNodes(SchedulerError):
    """`tags` that no node's labels satisfy: the replica set could never be placed."""


class Services(DockerScheduler):
    """The service-level half of `SwarmScheduler` (see the package docstring)."""

    _network_id: str = ""
    _node_names: tuple[float, dict[str, str]] = (0.0, {})  # (listed at, node id → hostname)

    async def ensure_network(self) -> None:
        """The platform's attachable overlay network: created (labelled heritage=deis) when missing; a
        network of that name that is not an attachable overlay is refused."""
        async with self._network_lock:
            if self._network_ready:
                return
            doing = f"checking network {self.network}"
            info = await self._call(doing, lambda: self._docker._query_json(f"networks/{self.network}"),
                                    absent=(404,))
            if info is None:
                body = {"Name": self.network, "Driver": "overlay", "Attachable": True, "CheckDuplicate": True,
                        "Labels": {LABEL_HERITAGE: HERITAGE}}
                await self._call(f"creating network {self.network}", lambda: self._docker._query_json(
                    "networks/create", method="POST", data=json.dumps(body)), absent=(409,))
                info = await self._call(doing, lambda: self._docker._query_json(f"networks/{self.network}"))
            if info.get("Driver") != "overlay" or not info.get("Attachable"):
                raise SchedulerError(f"network {self.network} is not an attachable overlay network: set "
                                     f"WORKFLOW_SWARM_NETWORK to one, or to a name the platform may create")
            self._network_id = info["Id"]
            self._network_ready = True

    # -- nodes -------------------------------------------------------------------------------------------

    async def _nodes(self) -> list[dict[str, Any]]:
        return await self._call("listing nodes", lambda: self._docker._query_json("nodes")) or []

    async def node_labels(self) -> dict[str, dict[str, str]]:
        """hostname → labels (`docker node update --label-add`) of the nodes that can run tasks."""
        return {(n.get("Description") or {}).get("Hostname", n["ID"]): dict((n.get("Spec") or {}).get("Labels") or {})
                for n in await self._nodes()
                if (n.get("Spec") or {}).get("Availability") == "active"}

    async def engine_labels(self) -> dict[str, str]:
        """The labels of all active nodes, merged (for display: `unmatched_tags` checks node by node)."""
        merged: dict[str, str] = {}
        for labels in (await self.node_labels()).values():
            merged.update(labels)
        return merged

    async def unmatched_tags(self, tags: dict[str, str]) -> list[str]:
        """[] when some active node has every tag; otherwise what the closest nodes (those lacking the fewest)
        lack, together."""
        if not tags:
            return []
        lacking = [unmatched(tags, labels) for labels in (await self.node_labels()).values()] or [unmatched(tags, {})]
        fewest = min(len(missing) for missing in lacking)
        return sorted({tag for missing in lacking if len(missing) == fewest for tag in missing})

    async def check_placement(self, tags: dict[str, str]) -> None:
        """NoMatchingNodes unless some active node has every one of `tags` among its labels."""
        if missing := await self.unmatched_tags(tags):
            raise NoMatchingNodes(f"No nodes matched the provided labels: {', '.join(missing)}")

    # -- services and tasks ------------------------------------------------------------------------------

    async def _services(self, app: str | None = None, proc_type: str | None = None,
                        version: int | None = None) -> list[dict[str, Any]]:
        filters = json.dumps({"label": naming.label_filter(app, proc_type, version)})
        return await self._call("listing services", lambda: self._docker._query_json(
            "services", params={"filters": filters})) or []

    async def _service(self, replica_set: ReplicaSet) -> dict[str, Any] | None:
        name = service_name(replica_set.app, replica_set.proc_type, replica_set.version)
        return await self._call(f"inspecting service {name}",
                                lambda: self._docker._query_json(f"services/{name}"), absent=(404,))

    async def _tasks(self, service_ids: list[str]) -> list[dict[str, Any]]:
        if not service_ids:
            return []
        filters = json.dumps({"service": service_ids})
        return await self._call("listing tasks", lambda: self._docker._query_json(
            "tasks", params={"filters": filters})) or []

    async def _hostnames(self, tasks: list[dict[str, Any]]) -> dict[str, str]:
        """Node id → hostname for the tasks' nodes: listed again when a task is on a node not seen yet or the
        last listing is NODE_NAMES_TTL old, not on every look (a deploy's readiness checks look at each task
        every ≤ 0.1 s, and each listing costs the manager)."""
        listed, names = self._node_names
        node_ids = {t["NodeID"] for t in tasks if t.get("NodeID")}
        if time.monotonic() - listed > NODE_NAMES_TTL or not node_ids <= names.keys():
            names = {n["ID"]: (n.get("Description") or {}).get("Hostname", n["ID"]) for n in await self._nodes()}
            self._node_names = (time.monotonic(), names)
        return names

    async def _to_containers(self, tasks: list[dict[str, Any]]) -> list[Container]:
        await self.ensure_network()
        nodes = await self._hostnames(tasks)
        return [c for c in (to_container(t, self._network_id, nodes) for t in tasks) if c is not None]

    @staticmethod
    def _wanted(task: dict[str, Any]) -> bool:
        """A task Swarm keeps (not one it shut down or replaced: those are history)."""
        return task.get("DesiredState") in ("new", "ready", "accepted", "running")

    async def _update(self, service: dict[str, Any], spec: dict[str, Any], doing: str,
                      headers: dict[str, str] | None = None) -> None:
        version = service["Version"]["Index"]
        await self._call(doing, lambda: self._docker._query_json(
            f"services/{service['ID']}/update", method="POST", params={"version": str(version)},
            data=json.dumps(spec), headers=headers))

    async def _set_replicas(self, replica_set: ReplicaSet, replicas: int) -> None:
        """Set the service's replica count; 0 removes the service. Retried when someone else updated it."""
        name = service_name(replica_set.app, replica_set.proc_type, replica_set.version)
        for _ in range(5):
            service = await self._service(replica_set)
            if service is None:
                return
            if replicas <= 0:
                path = f"services/{service['ID']}"
                await self._call(f"removing service {name}", lambda p=path: self._docker._query_json(
                    p, method="DELETE"), absent=(404,))
                return
            spec = service["Spec"]
            spec["Mode"] = {"Replicated": {"Replicas": replicas}}
            try:
                await self._update(service, spec, f"scaling service {name}")
                return
            except SchedulerError as exc:
                if "update out of sequence" not in exc.message:
                    raise
        raise SchedulerError(f"service {name} kept changing while scaling it")

    async def scale(self, spec: ContainerSpec, replicas: int) -> list[Container]:
        """`Scheduler.scale`: the service of the replica set at ≥ `replicas` (created with the spec, or updated
        when the spec changed); waits until Swarm has made the missing tasks and returns them (they may still
        be starting). When they do not appear in time the replica count is put back and the error raised."""
        await self.ensure_network()
        await self.check_placement(spec.tags)
        body = service_spec(spec, self.network, self.limits)
        digest = body["Labels"]["deis.spec"]
        replica_set = ReplicaSet.of(spec)
        service = await self._service(replica_set)
        before = {t["ID"]: t for t in await self._tasks([service["ID"]])} if service else {}
        have = [t for t in before.values() if self._wanted(t) and spec_digest(t.get("Spec") or {}) == digest
                and deis_state(t) not in ENDED]
        missing = replicas - len(have)
        if missing <= 0:
            return []
        name = body["Name"]
        previous = 0
        if service is None:
            body["Mode"] = {"Replicated": {"Replicas": replicas}}
            created = await self._call(f"creating service {name}", lambda: self._docker._query_json(
                "services/create", method="POST", data=json.dumps(body), headers=self._auth_header(spec)))
            service_id = created["ID"]
        else:
            previous = service["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 0)
            body["Mode"] = {"Replicated": {"Replicas": max(previous, len(have) + missing)}}
            if service["Spec"].get("Labels", {}).get("deis.spec") != digest or previous < len(have) + missing:
                await self._update(service, body, f"scaling service {name}", self._auth_header(spec))
            service_id = service["ID"]
        try:
            return await self._new_tasks(service_id, before, digest, missing, spec)
        except BaseException:
            await self._set_replicas(replica_set, previous)
            raise

    def _auth_header(self, spec: ContainerSpec) -> dict[str, str] | None:
        """X-Registry-Auth with the app's registry credentials: the manager keeps them with the service (in its
        encrypted store, not in what `GET /services` shows) and hands them to the nodes' pulls of its tasks. An
        update without the header keeps them (replica count changes send none)."""
        config = self._auth_config(spec.image, spec.registry_auth)
        return {"X-Registry-Auth": compose_auth_header(config)} if config else None

    async def _new_tasks(self, service_id: str, before: dict[str, Any], digest: str, count: int,
                         spec: ContainerSpec) -> list[Container]:
        deadline = time.monotonic() + self._api_timeout
        while True:
            tasks = [t for t in await self._tasks([service_id]) if t["ID"] not in before and self._wanted(t)
                     and spec_digest(t.get("Spec") or {}) == digest]
            if len(tasks) >= count:
                return (await self._to_containers(tasks))[:count]
            if time.monotonic() > deadline:
                raise SchedulerError(f"Swarm made {len(tasks)} of {count} tasks of {spec.app}-{spec.proc_type} "
                                     f"within {self._api_timeout:g} s")
            await asyncio.sleep(POLL)

    async def _settle(self, replica_set: ReplicaSet, replicas: int, grace_seconds: int) -> None:
        """Wait (bounded by the grace period) until at most `replicas` tasks of the set are wanted and live."""
        deadline = time.monotonic() + grace_seconds + self._api_timeout
        while time.monotonic() < deadline:
            live = [c for c in await self.list(replica_set.app, replica_set.proc_type, replica_set.version)
                    if c.state not in ENDED and c.state != "terminating"]
            if len(live) <= replicas:
                return
            await asyncio.sleep(POLL)

    async def retire(self, replica_set: ReplicaSet, replicas: int, drained: list[Container],
                     grace_seconds: int = 30) -> None:
        """`Scheduler.retire`: the service's replica count lowered to `replicas` (Swarm picks which tasks stop:
        `drained` ones are not necessarily among them); at 0 the service is removed."""
        await self._set_replicas(replica_set, max(replicas, 0))
        await self._settle(replica_set, replicas, grace_seconds)

    async def list(self, app: str | None = None, proc_type: str | None = None,
                   version: int | None = None) -> list[Container]:
        """The tasks Swarm keeps of deis services (any state), narrowed by the labels given; newest first.
        Tasks Swarm has shut down or replaced are history: `get` still finds them, `list` does not."""
        services = await self._services(app, proc_type, version)
        tasks = [t for t in await self._tasks([s["ID"] for s in services]) if self._wanted(t)]
        containers = await self._to_containers(tasks)
        epoch = datetime.min.replace(tzinfo=UTC)
        containers.sort(key=lambda c: (c.started or epoch, c.name), reverse=True)
        return containers

    async def task_addresses(self, service: str) -> dict[str, str]:
        """The running tasks of a platform service (e.g. the routers of deploy/stack.yml): their address on
        the apps' overlay network → task id."""
        await self.ensure_network()
        filters = json.dumps({"service": [service], "desired-state": ["running"]})
        tasks = await self._call("listing tasks", lambda: self._docker._query_json(
            "tasks", params={"filters": filters})) or []
        out = {}
        for task in tasks:
            if (task.get("Status") or {}).get("State") != "running":
                continue
            for attachment in task.get("NetworksAttachments") or []:
                if (attachment.get("Network") or {}).get("ID") == self._network_id and attachment.get("Addresses"):
                    out[attachment["Addresses"][0].partition("/")[0]] = task["ID"]
        return out

    async def get(self, container_id: str) -> Container | None:
        """One task by id (history included: why it ended), or a wanted one by its pod name."""
        task = await self._call(f"inspecting task {container_id}",
                                lambda: self._docker._query_json(f"tasks/{container_id}"), absent=(400, 404))
        if task is not None:
            found = await self._to_containers([task])
            return found[0] if found else None
        parsed = naming.parse_pod_name(container_id)
        if parsed is None:
            return None
        return next((c for c in await self.list(app=parsed.app) if c.name == container_id), None)

    async def remove(self, containers: list[Container], grace_seconds: int = 30) -> None:
        """Swarm cannot remove one task: each set's replica count is lowered by its live tasks among
        `containers` (Swarm picks which stop) and the service removed at 0. Ended ones are history already."""
        by_set: dict[ReplicaSet, set[str]] = {}
        for container in containers:
            by_set.setdefault(ReplicaSet.of(container), set()).add(container.id)
        for replica_set, ids in by_set.items():
            live = [c for c in await self.list(replica_set.app, replica_set.proc_type, replica_set.version)
                    if c.state not in ENDED and c.state != "terminating"]
            leaving = sum(1 for c in live if c.id in ids)
            if leaving or not live:  # nothing of the set runs any more (an app destroyed): the service goes
                await self._set_replicas(replica_set, len(live) - leaving)
                await self._settle(replica_set, len(live) - leaving, grace_seconds)
