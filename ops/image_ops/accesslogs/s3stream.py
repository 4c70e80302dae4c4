"""Stream the objects under an ``s3://`` prefix as batches of local files, bounded.

A day of CloudFront logs is thousands of small gzip objects; downloading them all
before the report starts needs disk for all of them. Here a background thread
downloads the next batch while DuckDB loads the current one, and never holds more
than ``2 x batch_files`` objects on disk: a slot is taken per object before it is
downloaded and given back when the batch it belongs to has been loaded and deleted.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from image_ops.accesslogs.fields import DELIVERY_FIELDS
from image_ops.accesslogs.sources import LogFile, SourceError, parse_s3_url, read_header

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_BATCH_FILES = 16
MAX_BATCH_FILES = 1000
_POLL_S = 0.1  # how often a blocked downloader checks whether the reader went away


class _End:
    """Sentinel: the listing is exhausted."""


class S3Stream:
    """Batches of downloaded log objects under one prefix; see the module docstring.

    Iterate with ``batches()``; each batch's files are deleted when the next batch
    is requested, so a batch is valid only until then.
    """

    def __init__(
        self,
        url: str,
        dest: Path,
        client: S3Client,
        *,
        batch_files: int = DEFAULT_BATCH_FILES,
        plain_fields: Sequence[str] = DELIVERY_FIELDS,
        on_download: Callable[[int], None] | None = None,
    ) -> None:
        if not 1 <= batch_files <= MAX_BATCH_FILES:
            raise SourceError(f"batch size must be 1..{MAX_BATCH_FILES}, got {batch_files}")
        self.url = url
        self.dest = dest
        self.client = client
        self.batch_files = batch_files
        self.plain_fields = tuple(plain_fields)
        self.on_download = on_download  # called with each object's size (progress.py)
        self.skipped: list[str] = []
        self.objects = 0  # objects downloaded, logs or not
        self._slots = threading.Semaphore(2 * batch_files)
        self._ready: queue.Queue[list[LogFile] | BaseException | _End] = queue.Queue()
        self._stop = threading.Event()

    def batches(self) -> Iterator[list[LogFile]]:
        """Yield batches of log files in listing order; raise SourceError on S3 errors."""
        worker = threading.Thread(target=self._download_all, name="s3-logs", daemon=True)
        worker.start()
        try:
            while True:
                item = self._ready.get()
                if isinstance(item, _End):
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
                for f in item:
                    f.path.unlink(missing_ok=True)
                    self._slots.release()
        finally:
            self._stop.set()
            worker.join()
        if self.objects == 0:
            raise SourceError(f"no objects under {self.url}")

    def _take_slot(self) -> bool:
        while not self._slots.acquire(timeout=_POLL_S):
            if self._stop.is_set():
                return False
        return True

    def _download_all(self) -> None:
        try:
            self._produce()
        except Exception as exc:  # handed to the reading thread, re-raised there
            self._ready.put(_as_source_error(self.url, exc))
        else:
            self._ready.put(_End())

    def _keys(self) -> Iterator[str]:
        bucket, prefix = parse_s3_url(self.url)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield obj["Key"]

    def _produce(self) -> None:
        bucket, _ = parse_s3_url(self.url)
        batch: list[LogFile] = []
        for key in self._keys():
            if not self._take_slot():
                return
            # Never the key as a local name: any S3 key is fine (1024 bytes, any character).
            target = self.dest / f"{self.objects:06d}.log"
            self.objects += 1
            self.client.download_file(bucket, key, str(target))
            if self.on_download is not None:
                self.on_download(target.stat().st_size)
            header = read_header(target, self.plain_fields)
            origin = f"s3://{bucket}/{key}"  # names the object in truncated/skipped lists
            if header is None:
                self.skipped.append(origin)
                target.unlink()
                self._slots.release()
                continue
            batch.append(LogFile.found(target, header, origin))
            if len(batch) >= self.batch_files:
                self._ready.put(batch)
                batch = []
        if batch:
            self._ready.put(batch)


def _as_source_error(url: str, exc: Exception) -> Exception:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, BotoCoreError | ClientError):
        err = SourceError(f"cannot read {url}: {exc}")
        err.__cause__ = exc
        return err
    return exc
