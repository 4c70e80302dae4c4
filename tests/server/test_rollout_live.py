"""The live copy of the flag: a poll racing a write never installs the older state."""

from __future__ import annotations

import threading
from pathlib import Path

from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.live import LiveRollout
from image_resolver.rollout.store import FileStore, Snapshot, encode


class GatedStore(FileStore):
    """A file store whose next read, once armed, stalls after reading until released."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.armed = False
        self.reading = threading.Event()
        self.release = threading.Event()

    def change_token(self) -> object:
        return object()  # never equal to the last one: every poll reads

    def read(self) -> Snapshot:
        snap = super().read()
        if self.armed:
            self.armed = False
            self.reading.set()
            self.release.wait(5)
        return snap


def test_poll_that_read_before_a_write_does_not_undo_it(tmp_path: Path) -> None:
    store = GatedStore(tmp_path / "rollout.json")
    store.path.write_text(encode(RolloutState(10, revision=1)))
    live = LiveRollout(store, RolloutState(0))
    live.refresh()
    assert live.state.percent == 10

    store.armed = True
    poll = threading.Thread(target=live.refresh)
    poll.start()
    assert store.reading.wait(5)  # the poll holds the old document (10%)
    writer = threading.Thread(
        target=live.set,
        kwargs={"percent": 60, "cdn_enabled": True, "expected_revision": 1, "updated_by": "t"},
    )
    writer.start()
    writer.join(0.2)
    store.release.set()
    poll.join(5)
    writer.join(5)
    assert live.state.percent == 60
    assert live.state.revision == 2
    live.refresh()
    assert live.state.percent == 60


def test_store_failure_keeps_last_good_state(tmp_path: Path) -> None:
    path = tmp_path / "rollout.json"
    path.write_text(encode(RolloutState(35, revision=4)))
    live = LiveRollout(FileStore(path), RolloutState(100))
    live.refresh()
    path.write_text("{not json")
    live.refresh()
    assert (live.state.percent, live.state.revision) == (35, 4)
    health = live.health()
    assert not health.healthy
    assert health.consecutive_failures == 1
