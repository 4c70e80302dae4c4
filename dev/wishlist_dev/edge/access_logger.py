"""varnishncsa as one more foreground child of the edge, writing the working access log,
and the timer that rolls it into delivered files (log_delivery.py).

varnishncsa reads the shared-memory log from where it is when it attaches, and a little
behind Varnish: a roll right after a request could miss it. `sync()` closes that gap: it
sends a probe request (which the VCL marks as no viewer request, so it is never delivered)
and waits until the probe's line is in the working file; every request completed before
the probe is then written too. Start waits for a probe's line the same way.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wishlist_dev.edge.access_log import LineFormat
from wishlist_dev.edge.log_delivery import AccessLogs, LogDelivery
from wishlist_dev.edge.processes import Daemon, find_binary

LOG = logging.getLogger(__name__)
SYNC_PATH = "/.edge-log-sync/"
Probe = Callable[[str], object]  # sends GET path to Varnish (as a host the VCL skips)


class AccessLogger:
    """The edge's access logs while it runs: start after varnishd, stop before it."""

    def __init__(
        self, settings: AccessLogs, distribution_host: str, workdir: Path, probe: Probe
    ) -> None:
        self.settings = settings
        self.format = LineFormat(settings.location, distribution_host)
        self.workdir = workdir
        self.delivery = LogDelivery(settings, self.format, workdir / "access.log")
        self._probe = probe
        self._daemon: Daemon | None = None
        self._timer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._session = secrets.token_hex(8)

    @property
    def daemon(self) -> Daemon | None:
        return self._daemon

    def start(self, varnish_dir: Path) -> None:
        """Run varnishncsa on Varnish's working directory; return once it writes lines."""
        self.delivery.reset()
        argv = [
            str(find_binary("varnishncsa")),
            "-n", str(varnish_dir),
            "-F", self.format.ncsa_format,
            "-w", str(self.delivery.working),
            "-a",
        ]  # fmt: skip
        # %{...}t formats in local time: UTC, as CloudFront's date and time are
        env = {**os.environ, "TZ": "UTC"}
        self._daemon = Daemon("varnishncsa", argv, self.workdir / "varnishncsa.log", env)
        self._daemon.start(self._probe_seen)
        self._stopping.clear()
        self._timer = threading.Thread(target=self._roll_every, name="edge-log-roll", daemon=True)
        self._timer.start()

    def _probe_seen(self) -> bool:
        """Daemon readiness: send a probe; any probe's line written means varnishncsa reads."""
        self._probe(f"{SYNC_PATH}{self._session}/start")
        return self._written_since(0, f"{SYNC_PATH}{self._session}/start")

    def _written_since(self, position: int, marker: str) -> bool:
        try:
            with self.delivery.working.open("rb") as fh:
                fh.seek(position)
                return marker.encode() in fh.read()
        except FileNotFoundError:
            return False

    def sync(self, timeout: float = 10.0) -> bool:
        """Wait until varnishncsa has written every request completed before this call."""
        marker = f"{SYNC_PATH}{self._session}/{secrets.token_hex(8)}"
        try:
            position = self.delivery.working.stat().st_size
        except FileNotFoundError:
            position = 0
        self._probe(marker)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._written_since(position, marker):
                return True
            time.sleep(0.02)
        return False

    def _roll_every(self) -> None:
        while not self._stopping.wait(self.settings.roll_seconds):
            self._roll_logged()

    def _roll_logged(self) -> list[Path]:
        """A roll whose failure (a full or unwritable folder) is logged: the lines stay in
        the working file for the next roll, and the edge keeps serving."""
        try:
            return self.delivery.roll()
        except OSError as exc:
            LOG.warning("access log: cannot deliver to %s: %s", self.settings.folder, exc)
            return []

    def roll(self) -> list[Path]:
        """Deliver now everything served so far (sync, then roll)."""
        if not (self._daemon and self._daemon.running and self.sync()):
            LOG.warning("access log: varnishncsa did not catch up; rolling what it wrote")
        return self.delivery.roll()

    def stop(self, *, sync: bool) -> None:
        """Stop varnishncsa and deliver its last lines; `sync` while Varnish still answers."""
        if self._daemon is None:
            return
        if sync and self._daemon.running and not self.sync(timeout=5.0):
            LOG.warning("access log: varnishncsa did not catch up before stopping")
        self._stopping.set()
        if self._timer is not None:
            self._timer.join()
            self._timer = None
        self._daemon.stop()
        self._daemon = None
        self._roll_logged()
        self.delivery.reset()
