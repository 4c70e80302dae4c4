"""A progress line on stderr while a long report runs, only when stderr is a terminal.

A day of logs from S3 is thousands of downloads and minutes of work; a person at a
terminal should see it move. A script, a pipe, CI or a cron job gets nothing (stderr
stays for the one-line error), so the output of ``--json`` is never mixed with it.
Rich draws the line (and clears it when done); it is thread-safe, so the S3
downloader thread can report straight into it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import TextIO

from image_ops.accesslogs.sources import LogFile


def _size(files: Sequence[LogFile]) -> int:
    total = 0
    for f in files:
        with contextlib.suppress(OSError):  # vanished: the reader says so
            total += f.path.stat().st_size
    return total


class Progress:
    """Files and bytes loaded, S3 objects downloaded, and the phase; silent when off."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        stream = stream if stream is not None else sys.stderr
        self.enabled = stream.isatty() if enabled is None else enabled
        self.files = self.bytes = self.downloads = self.download_bytes = 0
        self._lock = threading.Lock()
        self._live = None
        self._task = None
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress as RichProgress
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._live = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=stream, stderr=stream is sys.stderr),
                transient=True,
            )
            self._task = self._live.add_task(self._describe("reading"), total=None)

    def _describe(self, phase: str) -> str:
        parts = [f"{phase}: {self.files} files, {self.bytes / 1e6:,.1f} MB loaded"]
        if self.downloads:
            parts.append(f"{self.downloads} S3 objects ({self.download_bytes / 1e6:,.1f} MB)")
        return ", ".join(parts)

    def _update(self, phase: str = "reading") -> None:
        if self._live is not None and self._task is not None:
            self._live.update(self._task, description=self._describe(phase))

    def downloaded(self, nbytes: int) -> None:
        """One S3 object is on disk (called from the downloader thread)."""
        with self._lock:
            self.downloads += 1
            self.download_bytes += nbytes
            self._update()

    def batches(self, batches: Iterable[list[LogFile]]) -> Iterator[list[LogFile]]:
        """The same batches, counted as each one has been loaded."""
        for batch in batches:
            yield batch
            with self._lock:
                self.files += len(batch)
                self.bytes += _size(batch)
                self._update()

    def phase(self, name: str) -> None:
        """A new step (e.g. the queries), shown with the counts so far."""
        with self._lock:
            self._update(name)

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
