"""Container backends. `base` holds the contract; `docker` the Docker-engine implementation.

`DockerScheduler` is imported lazily so that importing the contract (as `domain` and the services do) never
loads aiodocker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    Container,
    ContainerSpec,
    EngineEvent,
    EngineUnavailable,
    ImageInfo,
    ImageNotFound,
    ImagePullFailed,
    RegistryAuth,
    Resources,
    Scheduler,
    SchedulerError,
)

if TYPE_CHECKING:
    from .docker import DockerScheduler

__all__ = [
    "Container",
    "ContainerSpec",
    "DockerScheduler",
    "EngineEvent",
    "EngineUnavailable",
    "ImageInfo",
    "ImageNotFound",
    "ImagePullFailed",
    "RegistryAuth",
    "Resources",
    "Scheduler",
    "SchedulerError",
]


def __getattr__(name: str) -> Any:
    if name == "DockerScheduler":
        from .docker import DockerScheduler

        return DockerScheduler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
