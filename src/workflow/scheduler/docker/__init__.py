"""The Docker-engine scheduler: Deis pods as plain containers on one engine (spec/API.md §7).

How Deis concepts map onto Docker objects:

* A pod is a container named `<app>-<type>-<10-digit hash>-<5 rand>` (see `domain.naming`), labelled
  `deis.app`, `deis.type`, `deis.version=v<N>` and `heritage=deis`. The labels are the only record of
  ownership: the engine is the source of truth, nothing is cached here.
* A process type at a release is the set of containers sharing (app, type, version) labels. Scaling and
  rolling replaces are done by the services with `start` / `remove`; there is no engine-side replica object.
* Every app container joins the platform's bridge network (default `workflow`, labelled heritage=deis) and
  publishes no host port: the router and the health probes reach it at its address on that network.
* Containers run with the engine's init as PID 1 (`HostConfig.Init`) so SIGTERM reaches the app, with
  `StopTimeout` = the grace period and no restart policy (the reconciler replaces dead containers).
* `deis run` is a container of type `run` that is waited for and removed.

This package is the only code that imports aiodocker, one module a job: `engine` (the client, the limits,
`_call`: every short engine call bounded in time and its errors translated into the `SchedulerError` family of
`base.py`), `conversion` (engine JSON ↔ the contract's dataclasses), `images` (pull, resolve, login, image
GC), `containers` (network, start, list, remove, logs, exec, run), `events` (engine events, CPU statistics).
"""

from __future__ import annotations

from ...domain.images import image_reference, split_image
from .containers import Containers
from .conversion import deis_state
from .engine import NO_ICC, ContainerLimits
from .events import EVENT_ACTIONS, Events

__all__ = ["EVENT_ACTIONS", "NO_ICC", "ContainerLimits", "DockerScheduler", "deis_state", "image_reference",
           "split_image"]


class DockerScheduler(Containers, Events):
    """`Scheduler` on one Docker engine. See the package docstring for the mapping.

    `docker` is the process-wide client opened by the app's lifespan (closed by its owner; `from_url` makes
    one this object owns, closed by `close()`). `api_timeout` bounds each short engine call,
    `pull_timeout` a whole pull.
    """
