"""Every report argument (files, folders, ``s3://`` prefixes) as batches of log files.

Local files come as one batch: they are on disk already, and DuckDB reads the
files of one scan in parallel (one thread per gzip file); it reads them through
links with safe names in the scratch folder (sources.stage). Each S3 prefix is
streamed in bounded batches (s3stream.py).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from pathlib import Path

from image_ops.accesslogs.fields import DELIVERY_FIELDS
from image_ops.accesslogs.s3stream import DEFAULT_BATCH_FILES, S3Stream
from image_ops.accesslogs.sources import LogFile, SourceError, collect_local, s3_client, stage


class Inputs:
    """The arguments of one report; ``skipped`` fills in while ``batches()`` runs;
    ``not_regular`` lists folder members that are not regular files (never read)."""

    def __init__(
        self,
        paths: Sequence[str],
        scratch: Path,
        *,
        endpoint_url: str | None = None,
        s3_batch_files: int = DEFAULT_BATCH_FILES,
        plain_fields: Sequence[str] = DELIVERY_FIELDS,
        on_download: Callable[[int], None] | None = None,
    ) -> None:
        self.s3_urls = [p for p in paths if p.startswith("s3://")]
        # Local paths are resolved now, so a missing file fails before any download.
        local = collect_local([p for p in paths if not p.startswith("s3://")], plain_fields)
        # DuckDB reads them under safe names: a user's file name is never a pattern.
        self.local_files = stage(local.files, scratch / "local")
        self.skipped = list(local.skipped)
        self.not_regular = list(local.not_regular)
        self.scratch = scratch
        self.endpoint_url = endpoint_url
        self.s3_batch_files = s3_batch_files
        self.plain_fields = tuple(plain_fields)
        self.on_download = on_download

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
                stream = S3Stream(
                    url,
                    dest,
                    client,
                    batch_files=self.s3_batch_files,
                    plain_fields=self.plain_fields,
                    on_download=self.on_download,
                )
                try:
                    for batch in stream.batches():
                        found = True
                        yield batch
                finally:
                    self.skipped.extend(stream.skipped)
        if not found:
            why = [f"{len(self.skipped)} without a #Fields header"] if self.skipped else []
            if self.not_regular:
                why.append(f"{len(self.not_regular)} not regular files")
            detail = f" (skipped: {', '.join(why)})" if why else ""
            raise SourceError(f"no CloudFront log files found in the given paths{detail}")
