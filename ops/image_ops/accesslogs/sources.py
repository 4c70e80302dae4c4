"""Finding log files: local files, folders (recursive) and ``s3://bucket/prefix``.

S3 objects are read with boto3 (see s3stream.py): DuckDB's httpfs extension would
be downloaded at run time, which production hosts behind an egress allow-list
(and these build machines) cannot do.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from image_ops.accesslogs import formats
from image_ops.accesslogs.fields import DELIVERY_FIELDS
from image_ops.accesslogs.formats import Sniffed

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

GLOB_CHARS = "*?["  # DuckDB reads a path holding one of these as a pattern


class SourceError(Exception):
    """Bad input the user must fix: missing path, not a log file, unreadable bucket."""


@dataclass(frozen=True)
class LogFile:
    """A readable log file: the field names it declares (its ``#Fields:`` header, first
    JSON record, Parquet schema; plain: the configured list), compression and format."""

    path: Path
    fields: tuple[str, ...]
    gzipped: bool
    origin: str  # what the user named (a path), or the S3 object's s3:// URL
    fmt: str = "w3c"
    rows: int | None = None  # Parquet: the rows its footer holds (formats.Sniffed.rows)

    @classmethod
    def found(cls, path: Path, sniffed: Sniffed, origin: str) -> LogFile:
        return cls(path, sniffed.fields, sniffed.gzipped, origin, sniffed.fmt, sniffed.rows)

    def moved(self, path: Path, *, gzipped: bool | None = None) -> LogFile:
        """The same log under another path (a staged link, a sanitized copy)."""
        return replace(self, path=path, gzipped=self.gzipped if gzipped is None else gzipped)


def sniff_header(path: Path, plain_fields: Sequence[str] = DELIVERY_FIELDS) -> Sniffed | str:
    """What ``path`` is if it is a CloudFront standard log (formats.sniff), else why not."""
    return formats.sniff(path, plain_fields)


def read_header(path: Path, plain_fields: Sequence[str] = DELIVERY_FIELDS) -> Sniffed | None:
    """What ``path`` is if it is a CloudFront standard log, else None."""
    found = formats.sniff(path, plain_fields)
    return None if isinstance(found, str) else found


def file_kind(mode: int) -> str:
    """What a non-regular file is, for the list of skipped ones."""
    for test, name in (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISDIR, "folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(path: Path) -> str | None:
    """None for a regular file (a symlink is followed only to one), else what it is."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "broken symlink" if path.is_symlink() else "vanished"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if stat.S_ISREG(st.st_mode):
        return None
    kind = file_kind(st.st_mode)
    return f"symlink to a {kind}" if path.is_symlink() else kind


def _walk(folder: Path, not_regular: list[str]) -> Iterable[Path]:
    def unreadable(exc: OSError) -> None:
        not_regular.append(f"{exc.filename} (unreadable folder: {exc.strerror})")

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        keep = []
        for d in sorted(dirs):
            if d.startswith("."):
                continue
            if (Path(root) / d).is_symlink():  # os.walk does not descend; say so
                not_regular.append(f"{Path(root) / d} (symlink to a folder, not followed)")
            else:
                keep.append(d)
        dirs[:] = keep
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


@dataclass
class Collected:
    """Files to read; folder members that were not CloudFront logs; folder members that
    were not regular files (FIFOs, devices, sockets, symlinks to those), never opened
    except to check."""

    files: list[LogFile]
    skipped: list[str]
    not_regular: list[str] = field(default_factory=list)


def collect_local(paths: Sequence[str], plain_fields: Sequence[str] = DELIVERY_FIELDS) -> Collected:
    """Resolve local paths. A named file must be a log; folder members that aren't are skipped."""
    out = Collected([], [])
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in _walk(p, out.not_regular):
                why = _not_regular(f)
                if why is not None:
                    out.not_regular.append(f"{f} ({why})")
                    continue
                found = read_header(f, plain_fields)
                if found is None:
                    out.skipped.append(str(f))
                else:
                    out.files.append(LogFile.found(f, found, str(f)))
            continue
        why = _not_regular(p)
        if why in ("vanished", "broken symlink"):
            raise SourceError(f"no such file or directory: {raw}")
        if why is not None:
            raise SourceError(f"not a regular file ({why}): {raw}")
        header = sniff_header(p, plain_fields)
        if isinstance(header, str):
            raise SourceError(f"not a CloudFront standard log ({header}): {raw}")
        out.files.append(LogFile.found(p, header, raw))
    return out


def stage(files: Sequence[LogFile], folder: Path) -> list[LogFile]:
    """The same files under names DuckDB cannot read as a pattern (``*``, ``?``, ``[``
    in a user's file name are glob syntax to read_csv): a hard link in ``folder`` (the
    same inode that was checked), or a symlink to the resolved path where linking is not
    possible (another filesystem). ``origin`` keeps the user's name."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = []
    for i, f in enumerate(files):
        link = folder / f"{i:06d}.log"
        try:
            os.link(f.path, link)
        except OSError:
            os.symlink(os.path.realpath(f.path), link)
        staged.append(f.moved(link))
    return staged


def check_glob_free(path: Path, what: str) -> None:
    """DuckDB globs any path holding ``*``, ``?`` or ``[``: refuse such a scratch folder."""
    bad = sorted({c for c in str(path) if c in GLOB_CHARS})
    if bad:
        raise SourceError(
            f"{what} {path} contains {' '.join(repr(c) for c in bad)}, which DuckDB reads as "
            "a file pattern: choose a folder without it"
        )


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
