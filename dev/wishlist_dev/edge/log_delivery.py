"""The edge's access logs delivered as CloudFront delivers them: gzip-compressed W3C files
with the `#Version`/`#Fields` headers, named `<distribution ID>.YYYY-MM-DD-HH.<unique
ID>.gz` after the hour of their requests, under the standard logging v2 suffix path that
deploy/ configures and the W3C Athena table projects
(`cloudfront/w3c/{DistributionId}/{yyyy}/{MM}/{dd}/`).

varnishncsa appends to a plain working file and holds it open, so the file is never
truncated while it runs: `roll()` delivers the complete lines past the last roll. A file
is written under a dot name (which `image-ops logs report` skips) and renamed when
complete, so a reader never sees half a file.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from image_ops.accesslogs.athena import delivery_suffix_path
from image_ops.accesslogs.fields import FIELD_NAMES
from wishlist_dev.edge.access_log import DEFAULT_LOG_LOCATION, LineFormat

LOG = logging.getLogger(__name__)
DEFAULT_DISTRIBUTION_ID = "E2EXAMPLE0DIST"  # the committed Athena table's projection value
HEADER = "#Version: 1.0\n#Fields: " + " ".join(FIELD_NAMES) + "\n"
_DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{1,64}$")


@dataclass(frozen=True)
class AccessLogs:
    """Where the edge delivers its access logs and as what. `folder` stands in for the logs
    bucket (`image-ops logs report FOLDER` reads it); `location` is the x-edge-location of
    every line; a roll every `roll_seconds` (and on stop) delivers what was served."""

    folder: Path
    distribution_id: str = DEFAULT_DISTRIBUTION_ID
    location: str = DEFAULT_LOG_LOCATION
    roll_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not _DISTRIBUTION_ID.match(self.distribution_id):
            raise ValueError(f"not a CloudFront distribution ID: {self.distribution_id!r}")
        if not self.roll_seconds > 0:
            raise ValueError("roll_seconds must be positive")


class LogDelivery:
    """Rolls the working file into delivered files; safe to call from several threads."""

    def __init__(self, settings: AccessLogs, line_format: LineFormat, working: Path) -> None:
        self.settings = settings
        self.format = line_format
        self.working = working
        self.dropped = 0  # lines not of the format's shape: logged, never delivered
        self._offset = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget the working file (varnishncsa has stopped and its lines were rolled)."""
        with self._lock:
            self.working.unlink(missing_ok=True)
            self._offset = 0

    def roll(self) -> list[Path]:
        """Deliver the lines written since the last roll: one file per hour they fall in."""
        with self._lock:
            data = self._unrolled()
            by_hour: dict[str, list[str]] = {}
            for raw in data.decode("ascii", "replace").split("\n")[:-1]:
                try:
                    line = self.format.finish(raw)
                except ValueError as exc:
                    self.dropped += 1
                    LOG.warning("access log: dropped a line of the wrong shape (%s)", exc)
                    continue
                if line is not None:
                    by_hour.setdefault(LineFormat.hour(line), []).append(line)
            delivered = [self._deliver(hour, lines) for hour, lines in sorted(by_hour.items())]
            self._offset += len(data)  # not on an error: the next roll tries again
            return delivered

    def _unrolled(self) -> bytes:
        """The complete lines past the offset (a last line without its newline waits)."""
        try:
            with self.working.open("rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return b""
        return data[: data.rfind(b"\n") + 1]

    def folder_for(self, hour: str) -> Path:
        """The delivery folder of an hour `YYYY-MM-DD-HH` (the suffix path, expanded)."""
        yyyy, mm, dd, _ = hour.split("-")
        suffix = delivery_suffix_path("w3c").format(
            DistributionId=self.settings.distribution_id, yyyy=yyyy, MM=mm, dd=dd
        )
        return self.settings.folder / suffix

    def _deliver(self, hour: str, lines: list[str]) -> Path:
        folder = self.folder_for(hour)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self.settings.distribution_id}.{hour}"
        temp = folder / f".{name}.{secrets.token_hex(8)}.partial"
        body = HEADER + "".join(line + "\n" for line in lines)
        try:
            with temp.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw) as gz:
                gz.write(body.encode("ascii"))
            final = folder / f"{name}.{secrets.token_hex(4)}.gz"
            while final.exists():  # one writer per folder: a check is enough
                final = folder / f"{name}.{secrets.token_hex(4)}.gz"
            os.replace(temp, final)
        finally:
            temp.unlink(missing_ok=True)
        return final
