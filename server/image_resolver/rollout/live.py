"""The flag as the request path sees it: an in-memory copy, refreshed from the store.

Requests read one attribute and never wait on the store. A background thread polls;
a store that fails, holds garbage or holds nothing leaves the last good state in place
(never a crash, never everyone flipped) and is reported unhealthy through `health()` and
metrics. A replica that has never read the store serves the configured start value
(CDN_ROLLOUT_PERCENT, 0 when unset) and says so, so a start value is never silent.

No lock is held across a store call: a hung store must not block a write behind a stuck
poll, nor GetRollout behind either. Each poll runs on its own thread and is watched: one
that has not answered within `store_timeout` makes the store unhealthy at once (the
gauge, `health()`), whatever the store's client does. A poll's result is installed only
if no write started or finished while it was reading, so a poll that read just before a
write never installs its older state after the write's.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from image_resolver import metrics
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.store import (
    RevisionConflict,
    RolloutStore,
    StoreError,
    WriteOutcomeUnknown,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RolloutHealth:
    store: str
    healthy: bool
    last_error: str | None
    consecutive_failures: int


class WriteAttempt:
    """One SetRollout's write, shared by the caller and the thread doing it: the caller may
    abandon it (its deadline passed); the thread sends nothing once it is abandoned, so
    "abandoned before sent" is a write that certainly did not happen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent = False
        self._abandoned = False

    def send(self) -> bool:
        """Called just before the store call; False: abandoned, do not send."""
        with self._lock:
            if self._abandoned:
                return False
            self._sent = True
            return True

    def abandon(self) -> bool:
        """The caller gives up; True when the write may already be on its way."""
        with self._lock:
            self._abandoned = True
            return self._sent


class LiveRollout:
    """Holds the current RolloutState; `refresh()` pulls from the store, `set()` writes through."""

    def __init__(
        self,
        store: RolloutStore | None,
        initial: RolloutState,
        poll_seconds: float = 5.0,
        store_timeout: float = 5.0,
    ) -> None:
        self.store = store
        self.state = initial
        self.poll_seconds = poll_seconds
        self.store_timeout = store_timeout  # a poll not answered by then: store unhealthy
        self._token: object = object()
        self._last_error: str | None = None
        self._failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Guards the fields below; never held across a store call.
        self._lock = threading.Lock()
        self._installs = 0  # bumped by every write that installs a state
        self._writing = 0  # writes in flight: a poll that overlaps one is discarded
        self._from_store = False  # False while `state` is still the start value
        metrics.publish_rollout(initial)
        # Env only: nothing can fail. A store counts as failing until its first good read.
        metrics.ROLLOUT_STORE_HEALTHY.set(1 if store is None else 0)

    def refresh(self) -> bool:
        """Read the store if it may have changed; True when a new state was taken. Blocks
        for as long as the store call does (bounded by the store client's timeouts)."""
        if self.store is None:
            return False
        with self._lock:
            installs = self._installs
            overlaps = self._writing > 0
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
        with self._lock:
            if overlaps or self._writing > 0 or self._installs != installs:
                return False  # a write overlapped this read: its state is newer; poll again
            self._token = snap.token
            self._from_store = True
            if snap.state == self.state:
                return False
            self._take(snap.state)
        return True

    def poll_once(self) -> None:
        """One poll, watched: not answered within `store_timeout`, the store is reported
        unhealthy now (the read goes on, bounded by the client, and reports when done);
        the next poll starts only after this one has returned."""
        done = threading.Event()

        def run() -> None:
            try:
                self.refresh()
            finally:
                done.set()

        started = time.monotonic()
        threading.Thread(target=run, name="rollout-poll", daemon=True).start()
        if done.wait(self.store_timeout):
            return
        assert self.store is not None
        self._failed(
            f"{self.store.describe()} has not answered a read within "
            f"{self.store_timeout:g} s (hung or unreachable); serving {self._serving()}"
        )
        while not done.wait(0.5):
            if self._stop.is_set():
                return
        log.info("rollout store read returned after %.1f s", time.monotonic() - started)

    def set(
        self,
        *,
        percent: int,
        cdn_enabled: bool,
        expected_revision: int,
        updated_by: str,
        attempt: WriteAttempt | None = None,
    ) -> tuple[RolloutState, RolloutState]:
        """Compare-and-set a new state; returns (before, after). Raises RevisionConflict,
        StoreError (not written) or WriteOutcomeUnknown (may have been written).

        `expected_revision` is checked against this replica's state (what GetRollout
        showed); the store then writes only if it still holds that revision, or holds no
        valid document (missing or corrupt: replaced, so the kill switch always lands).
        No read comes first: the store's own compare-and-set is the check, and one store
        call is one wait. `attempt`: abandoned before the store call, nothing is sent.
        """
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
        if attempt is not None and not attempt.send():
            raise StoreError("the caller's deadline passed before the write was sent")
        with self._lock:
            self._writing += 1
        try:
            if self.store is not None:
                try:
                    self.store.compare_and_set(expected_revision, after)
                except WriteOutcomeUnknown as exc:
                    self._failed(str(exc))
                    raise
            with self._lock:
                if self.store is not None:
                    self._token = object()  # force the next poll to re-read what we wrote
                    self._from_store = True
                self._installs += 1
                if after.revision > self.state.revision:
                    self._take(after)
        finally:
            with self._lock:
                self._writing -= 1
        if self.store is not None:
            self._healthy()
        return before, after

    def health(self) -> RolloutHealth:
        name = self.store.describe() if self.store else "env (no store)"
        error = self._last_error
        return RolloutHealth(name, error is None, error, self._failures)

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
            self.poll_once()

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
