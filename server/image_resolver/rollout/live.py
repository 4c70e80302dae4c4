"""The flag as the request path sees it: an in-memory copy, refreshed from the store.

Requests read one attribute and never wait on the store. A background thread polls;
a store that fails, holds garbage or holds nothing leaves the last good state in place
(never a crash, never everyone flipped) and is reported unhealthy through `health()` and
metrics. A replica that has never read the store serves the configured start value
(CDN_ROLLOUT_PERCENT, 0 when unset) and says so, so a start value is never silent.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from image_resolver import metrics
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.store import RevisionConflict, RolloutStore, StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RolloutHealth:
    store: str
    healthy: bool
    last_error: str | None
    consecutive_failures: int


class LiveRollout:
    """Holds the current RolloutState; `refresh()` pulls from the store, `set()` writes through."""

    def __init__(
        self, store: RolloutStore | None, initial: RolloutState, poll_seconds: float = 5.0
    ) -> None:
        self.store = store
        self.state = initial
        self.poll_seconds = poll_seconds
        self._token: object = object()
        self._last_error: str | None = None
        self._failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # One lock for reads and writes: a poll that read the store just before a write
        # must not install its older state after the write's.
        self._lock = threading.RLock()
        self._from_store = False  # False while `state` is still the start value
        metrics.publish_rollout(initial)
        # Env only: nothing can fail. A store counts as failing until its first good read.
        metrics.ROLLOUT_STORE_HEALTHY.set(1 if store is None else 0)

    def refresh(self) -> bool:
        """Read the store if it may have changed; True when a new state was taken."""
        if self.store is None:
            return False
        with self._lock:
            return self._refresh_locked()

    def _refresh_locked(self) -> bool:
        assert self.store is not None
        try:
            token = self.store.change_token()
            if token is not None and token == self._token:
                self._healthy()
                return False
            snap = self.store.read()
        except StoreError as exc:
            self._failed(str(exc))
            return False
        if snap.state is None:
            self._failed(
                f"no rollout document in {self.store.describe()} (never written, or deleted); "
                f"serving {self._serving()}; `image-ops rollout set` writes one"
            )
            return False
        self._healthy()
        self._token = snap.token
        self._from_store = True
        if snap.state == self.state:
            return False
        self._take(snap.state)
        return True

    def set(
        self, *, percent: int, cdn_enabled: bool, expected_revision: int, updated_by: str
    ) -> tuple[RolloutState, RolloutState]:
        """Compare-and-set a new state; returns (before, after). Raises RevisionConflict.

        `expected_revision` is checked against this replica's state (what GetRollout
        showed); the store then writes only if it still holds that revision, or holds no
        valid document (missing or corrupt: replaced, so the kill switch always lands).
        """
        with self._lock:
            self.refresh()
            before = self.state
            if before.revision != expected_revision:
                raise RevisionConflict(
                    before,
                    f"rollout changed meanwhile: revision is {before.revision}, "
                    f"expected {expected_revision}",
                )
            after = before.next(
                percent=percent,
                cdn_enabled=cdn_enabled,
                updated_by=updated_by,
                at=datetime.now(UTC).replace(microsecond=0),
            )
            if self.store is not None:
                self.store.compare_and_set(expected_revision, after)
                self._token = object()  # force the next poll to re-read what we wrote
                self._from_store = True
                self._healthy()
            self._take(after)
            return before, after

    def health(self) -> RolloutHealth:
        name = self.store.describe() if self.store else "env (no store)"
        return RolloutHealth(name, self._last_error is None, self._last_error, self._failures)

    def start(self) -> None:
        """Poll in a daemon thread until stop()."""
        if self.store is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="rollout-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()

    def _take(self, state: RolloutState) -> None:
        old = self.state
        self.state = state
        metrics.publish_rollout(state)
        log.info(
            "rollout changed",
            extra={
                "from_percent": old.percent,
                "to_percent": state.percent,
                "cdn_enabled": state.cdn_enabled,
                "revision": state.revision,
                "updated_by": state.updated_by,
            },
        )

    def _failed(self, message: str) -> None:
        self._failures += 1
        metrics.ROLLOUT_STORE_ERRORS.inc()
        metrics.ROLLOUT_STORE_HEALTHY.set(0)
        if self._last_error != message:
            log.error(
                "rollout store failed; serving %s",
                self._serving(),
                extra={"error": message, "percent": self.state.percent},
            )
        self._last_error = message

    def _serving(self) -> str:
        """What is in force while the store cannot be used, for logs and health."""
        if self._from_store:
            return f"the last good value (revision {self.state.revision})"
        return f"the start value {self.state.percent}% (CDN_ROLLOUT_PERCENT)"

    def _healthy(self) -> None:
        metrics.ROLLOUT_STORE_HEALTHY.set(1)
        if self._last_error is not None:
            log.info("rollout store readable again")
        self._last_error = None
        self._failures = 0
