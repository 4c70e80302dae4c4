"""Notice at once when a part of the demo dies (the edge's varnishd or hitch, moto, the
resolver) instead of serving broken pages until Ctrl-C: say which, then stop the demo."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping

Check = Callable[[], str | None]  # None while the part is fine, else why it is not


class Watchdog:
    def __init__(self, checks: Mapping[str, Check], every: float = 1.0) -> None:
        self._checks = dict(checks)
        self._every = every
        self._stop = threading.Event()
        self.died: str | None = None
        self._thread = threading.Thread(target=self._run, name="demo-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            for name, check in self._checks.items():
                why = check()
                if why is not None:
                    self.died = f"{name} stopped: {why}"
                    print(f"wishlist-dev demo: {self.died}; stopping the demo", file=sys.stderr)
                    os.kill(os.getpid(), signal.SIGTERM)  # the server drains, then cleans up
                    return
