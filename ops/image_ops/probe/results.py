"""Where probe results go and come from: a local path or an s3:// object (the scheduled
probe writes s3://BUCKET/probe/REGION/latest.json; `rollout advance` reads it back), and
an optional Pushgateway for the metrics when no node_exporter textfile collector is near."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from image_ops.probe.output import write_atomic

MAX_RESULT_BYTES = 64 * 1024 * 1024


def _s3(url: str, endpoint_url: str | None) -> tuple[Any, str, str]:
    from image_ops.accesslogs.sources import parse_s3_url, s3_client

    bucket, key = parse_s3_url(url)
    if not key or key.endswith("/"):
        raise ValueError(f"{url}: name an object, not a prefix")
    return s3_client(endpoint_url), bucket, key


def write(dest: str, text: str, *, endpoint_url: str | None = None) -> None:
    if dest.startswith("s3://"):
        client, bucket, key = _s3(dest, endpoint_url)
        client.put_object(
            Bucket=bucket, Key=key, Body=text.encode(), ContentType="application/json"
        )
    else:
        write_atomic(Path(dest), text)


def read(src: str, *, endpoint_url: str | None = None) -> str:
    """The result's text; OSError/ValueError (or botocore's errors) when it cannot be read."""
    if src.startswith("s3://"):
        client, bucket, key = _s3(src, endpoint_url)
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_RESULT_BYTES + 1)
    else:
        with Path(src).open("rb") as fh:
            body = fh.read(MAX_RESULT_BYTES + 1)
    if len(body) > MAX_RESULT_BYTES:
        raise ValueError("larger than 64 MiB")
    return str(body.decode("utf-8"))


def push(gateway: str, metrics: str, instance: str, timeout: float = 10.0) -> None:
    """PUT to a Prometheus Pushgateway (replaces this probe's group: job image_probe)."""
    if not gateway.startswith(("http://", "https://")):
        raise ValueError("--push-gateway must be an http(s):// URL")
    url = f"{gateway.rstrip('/')}/metrics/job/image_probe/instance/{quote(instance, safe='')}"
    req = urllib.request.Request(url, data=metrics.encode(), method="PUT")  # noqa: S310 - scheme checked
    req.add_header("Content-Type", "text/plain; version=0.0.4")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        resp.read()
