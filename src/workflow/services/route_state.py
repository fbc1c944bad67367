"""Routing state: which release serves each app, and which instances passed readiness.

The one owner of that state. The converge path, the health monitor, the reconciler and app removal change it
only through the intent-named operations below; the route table (`services/routing.py`) and `deis ps` read it.
It is not persisted: at start-up the reconciler adopts what runs and serves it again.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.procfile import ROUTABLE_TYPES
from ..scheduler.base import Container


class RouteState:
    def __init__(self) -> None:
        self._serving: dict[str, int] = {}  # app id -> version whose instances receive traffic
        self._ready: set[str] = set()  # instance ids that passed readiness

    # --- reading ---------------------------------------------------------------------------------------

    def serving(self, app_id: str) -> int | None:
        """The version whose instances receive the app's traffic; None before its first deploy finished."""
        return self._serving.get(app_id)

    def serving_apps(self) -> dict[str, int]:
        """Every app with a serving version (a copy: the caller may await while iterating)."""
        return dict(self._serving)

    def is_ready(self, instance_id: str) -> bool:
        return instance_id in self._ready

    def routable(self, instances: list[Container], app_id: str) -> list[Container]:
        """The instances of an app the router should send traffic to: running, ready, with a port, of the
        serving version and of its routable type (`web`, else `cmd`)."""
        version = self._serving.get(app_id)
        live = [c for c in instances if c.app == app_id and c.version == version and c.state == "up"
                and c.id in self._ready and c.port]
        for proc_type in ROUTABLE_TYPES:
            chosen = [c for c in live if c.proc_type == proc_type]
            if chosen:
                return chosen
        return []

    # --- changing --------------------------------------------------------------------------------------

    def serve(self, app_id: str, version: int) -> None:
        """Send the app's traffic to this release's ready instances (a deploy's switch, an adoption)."""
        self._serving[app_id] = version

    def keep_serving(self, app_id: str, version: int) -> None:
        """The release the app serves, unless one already does (a scale or a replacement before any deploy
        finished)."""
        self._serving.setdefault(app_id, version)

    def mark_ready(self, instances: Iterable[Container | str]) -> None:
        """These instances passed readiness: they may receive traffic once their release serves."""
        self._ready.update(_ids(instances))

    def withdraw(self, instances: Iterable[Container | str]) -> None:
        """These instances receive no more traffic (failing readiness, draining, stopped or dead)."""
        self._ready.difference_update(_ids(instances))

    def forget_app(self, app_id: str) -> None:
        """The app is gone: nothing of it serves."""
        self._serving.pop(app_id, None)


def _ids(instances: Iterable[Container | str]) -> list[str]:
    return [i if isinstance(i, str) else i.id for i in instances]
