"""Finding log files: local files, folders (recursive) and ``s3://bucket/prefix``.

S3 objects are read with boto3 (see s3stream.py): DuckDB's httpfs extension would
be downloaded at run time, which production hosts behind an egress allow-list
(and these build machines) cannot do.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

GZIP_MAGIC = b"\x1f\x8b"
_HEADER_PROBE_LINES = 5


class SourceError(Exception):
    """Bad input the user must fix: missing path, not a log file, unreadable bucket."""


@dataclass(frozen=True)
class LogFile:
    """A readable log file with the field names its ``#Fields:`` header declares."""

    path: Path
    fields: tuple[str, ...]
    gzipped: bool
    origin: str  # what the user named (a path), or the S3 object's s3:// URL


def _open_text(path: Path, gzipped: bool) -> Any:
    if gzipped:
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def read_header(path: Path) -> tuple[tuple[str, ...], bool] | None:
    """Return (fields, gzipped) if ``path`` looks like a CloudFront log, else None."""
    try:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == GZIP_MAGIC
        with _open_text(path, gzipped) as fh:
            for _ in range(_HEADER_PROBE_LINES):
                line = fh.readline()
                if not line:
                    break
                if line.startswith("#Fields:"):
                    fields = tuple(line[len("#Fields:") :].split())
                    return (fields, gzipped) if fields else None
                if not line.startswith("#"):
                    break
    except (OSError, EOFError, zlib.error, UnicodeError):
        return None
    return None


def recover_truncated_gzip(path: Path, out: Path) -> int:
    """Decompress what is readable of a cut-off gzip file into ``out``; return bytes kept.

    A log object cut short (interrupted copy, partial download) must not sink the
    whole report: keep every complete member, and the final partial line is then
    rejected by the CSV reader like any other malformed line.
    """
    kept = 0
    with path.open("rb") as src, out.open("wb") as dst:
        data = src.read()
        while data:
            d = zlib.decompressobj(wbits=31)
            try:
                chunk = d.decompress(data)
            except zlib.error:
                break
            dst.write(chunk)
            kept += len(chunk)
            data = d.unused_data if d.eof else b""
    return kept


def _candidate_files(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


@dataclass
class Collected:
    """Files to read, plus the names of folder members that were not CloudFront logs."""

    files: list[LogFile]
    skipped: list[str]


def collect_local(paths: Sequence[str]) -> Collected:
    """Resolve local paths. A named file must be a log; folder members that aren't are skipped."""
    out = Collected([], [])
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in _candidate_files(p):
                header = read_header(f)
                if header is None:
                    out.skipped.append(str(f))
                else:
                    out.files.append(LogFile(f, header[0], header[1], str(f)))
        elif p.is_file():
            header = read_header(p)
            if header is None:
                raise SourceError(f"not a CloudFront standard log (no #Fields header): {raw}")
            out.files.append(LogFile(p, header[0], header[1], raw))
        else:
            raise SourceError(f"no such file or directory: {raw}")
    return out


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into (bucket, prefix)."""
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise SourceError(f"bad S3 URL (want s3://bucket/prefix): {url}")
    return bucket, prefix


def s3_client(endpoint_url: str | None = None) -> S3Client:
    """An S3 client; ``endpoint_url`` (else S3_ENDPOINT_URL, else boto3's AWS_ENDPOINT_URL)."""
    import boto3

    endpoint = endpoint_url or os.environ.get("S3_ENDPOINT_URL") or None
    return boto3.client("s3", endpoint_url=endpoint)
