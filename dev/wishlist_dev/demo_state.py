"""What the demo keeps across restarts, in its state folder: the wishlist database, the
rollout file, the bucket's objects (moto keeps them in memory only, so they are copied
out when the demo stops and put back when it starts) and the edge's access logs.
`--fresh` starts over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

MANIFEST = "objects.json"


class DemoState:
    def __init__(self, folder: Path, *, fresh: bool = False) -> None:
        self.folder = folder.resolve()
        if fresh and self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.database = self.folder / "wishlist.db"
        self.rollout = self.folder / "rollout.json"
        self.objects = self.folder / "objects"
        self.access_logs = self.folder / "logs"  # the local edge's, as CloudFront delivers them
        self.kept = self.database.exists()  # False: a first start (or --fresh): seed it

    def restore_objects(self, s3: Any, bucket: str) -> int:
        """Put the saved objects back into the (new, empty) bucket; how many."""
        manifest = self.objects / MANIFEST
        if not manifest.exists():
            return 0
        entries: dict[str, str] = json.loads(manifest.read_text("utf-8"))
        for key, content_type in entries.items():
            body = (self.objects / quote(key, safe="")).read_bytes()
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        return len(entries)

    def save_objects(self, s3: Any, bucket: str) -> int:
        """Copy every object of the bucket into the state folder; how many."""
        if self.objects.exists():
            shutil.rmtree(self.objects)
        self.objects.mkdir()
        entries: dict[str, str] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", ()):
                got = s3.get_object(Bucket=bucket, Key=item["Key"])
                (self.objects / quote(item["Key"], safe="")).write_bytes(got["Body"].read())
                entries[item["Key"]] = got.get("ContentType") or "application/octet-stream"
        (self.objects / MANIFEST).write_text(json.dumps(entries, indent=1), "utf-8")
        return len(entries)
