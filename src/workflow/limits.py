"""In-process counters that bound what one tenant may hold at once or try in a while. Pure, no await:
one controller process serves the API, so these are exact without a database round trip."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class Slots:
    """At most `limit` holders per key (concurrent `deis run`s of an app, log streams of a user): `take`
    refuses instead of waiting, `give` returns the slot."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}

    def take(self, key: str, limit: int) -> bool:
        held = self._held.get(key, 0)
        if held >= limit:
            return False
        self._held[key] = held + 1
        return True

    def give(self, key: str) -> None:
        held = self._held.get(key, 0) - 1
        if held > 0:
            self._held[key] = held
        else:
            self._held.pop(key, None)

    def held(self, key: str) -> int:
        return self._held.get(key, 0)


class FailureThrottle:
    """Failures per key in a sliding window (failed logins per username, per client address). Keys are
    chosen by clients, so at most `max_keys` are remembered (the least recently failed are forgotten)."""

    def __init__(self, window: float, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        horizon = self._clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, key: str, limit: int) -> int | None:
        """Seconds until `key` may try again when it has `limit` recent failures; None when it may now."""
        times = self._recent(key)
        if len(times) < limit:
            return None
        return max(1, math.ceil(times[-limit] + self.window - self._clock()))

    def fail(self, key: str, limit: int) -> None:
        times = self._recent(key)
        times.append(self._clock())
        while len(times) > limit:  # older failures no longer decide anything
            times.popleft()
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def forgive(self, key: str) -> None:
        """Take back the newest failure of `key` (an attempt counted in advance that succeeded)."""
        times = self._failures.get(key)
        if times:
            times.pop()
            if not times:
                del self._failures[key]

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)
