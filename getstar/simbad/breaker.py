"""A circuit breaker: after N consecutive failures, stop calling SIMBAD for a while.

closed -> (N consecutive failures) -> open -> (``reset_after`` seconds) -> half-open: one probe
call is let through; its success closes the circuit, its failure opens it again.  Why: when
SIMBAD is down, callers get an immediate 503 instead of each waiting for a timeout, and SIMBAD
is not hammered while it recovers.  The clock is injectable so tests need no sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(self, threshold: int, reset_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(1, threshold)
        self.reset_after = reset_after
        self.clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self._probing or self.clock() - self._opened_at >= self.reset_after:
            return HALF_OPEN
        return OPEN

    def retry_in(self) -> float:
        """Seconds until a call may be tried again (0 when the circuit lets calls through)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.reset_after - self.clock())

    def allow(self) -> bool:
        """May a call go out now?  In half-open state only the first caller (the probe) may."""
        state = self.state
        if state == CLOSED:
            return True
        if state == HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.threshold:
            self._opened_at = self.clock()
        self._probing = False

    def release_probe(self) -> None:
        """The probe ended without a verdict (e.g. cancelled): let the next caller probe."""
        self._probing = False

    def snapshot(self) -> dict[str, object]:
        return {"state": self.state, "consecutive_failures": self.failures,
                "retry_in_s": round(self.retry_in(), 3) if self._opened_at is not None else None}
