"""Every report argument (files, folders, ``s3://`` prefixes) as batches of log files.

Local files come as one batch: they are on disk already, and DuckDB reads the
files of one scan in parallel (one thread per gzip file). Each S3 prefix is
streamed in bounded batches (s3stream.py).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path

from image_ops.accesslogs.s3stream import DEFAULT_BATCH_FILES, S3Stream
from image_ops.accesslogs.sources import LogFile, SourceError, collect_local, s3_client


class Inputs:
    """The arguments of one report; ``skipped`` fills in while ``batches()`` runs."""

    def __init__(
        self,
        paths: Sequence[str],
        scratch: Path,
        *,
        endpoint_url: str | None = None,
        s3_batch_files: int = DEFAULT_BATCH_FILES,
    ) -> None:
        self.s3_urls = [p for p in paths if p.startswith("s3://")]
        # Local paths are resolved now, so a missing file fails before any download.
        local = collect_local([p for p in paths if not p.startswith("s3://")])
        self.local_files = local.files
        self.skipped = list(local.skipped)
        self.scratch = scratch
        self.endpoint_url = endpoint_url
        self.s3_batch_files = s3_batch_files

    def batches(self) -> Generator[list[LogFile], None, None]:
        """Yield non-empty batches; raise SourceError if no argument held a log file."""
        found = False
        if self.local_files:
            found = True
            yield self.local_files
        if self.s3_urls:
            client = s3_client(self.endpoint_url)
            for i, url in enumerate(self.s3_urls):
                dest = self.scratch / f"s3-{i}"
                dest.mkdir(parents=True, exist_ok=True)
                stream = S3Stream(url, dest, client, batch_files=self.s3_batch_files)
                try:
                    for batch in stream.batches():
                        found = True
                        yield batch
                finally:
                    self.skipped.extend(stream.skipped)
        if not found:
            raise SourceError("no CloudFront log files found in the given paths")
