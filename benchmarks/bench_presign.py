"""Per-URL cost: CDN URL string vs botocore generate_presigned_url vs S3GetPresigner.

All three run in one process over the same distinct keys, no network. Usage:
    .venv/bin/python benchmarks/bench_presign.py [--keys 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import uuid
from collections.abc import Callable

import boto3
from botocore.config import Config
from botocore.credentials import Credentials, RefreshableCredentials

from image_resolver.s3.presign import S3GetPresigner
from image_resolver.urls import quote_key

BUCKET = "wishlist-images"
REGION = "eu-west-1"
CDN = "d111111abcdef8.cloudfront.net"
ACCESS, SECRET, TOKEN = "ASIAEXAMPLEEXAMPLE00", "secret/EXAMPLE+key", "session-token/+="


def make_keys(n: int) -> list[str]:
    keys = [f"uploads/wishlist/user-{i % 997}/{uuid.uuid4().hex}.jpg" for i in range(n)]
    # One in ten needs quoting (spaces, unicode), as legacy keys do.
    for i in range(0, n, 10):
        keys[i] = f"uploads/wishlist/user {i}/Fotó {i} (1)+😀.jpg"
    return keys


def per_call_us(fn: Callable[[str], object], key_sets: list[list[str]], repeat: int) -> float:
    """Best run; each run signs keys it never saw (the presigner keeps a window's URLs)."""
    best = float("inf")
    for keys in key_sets[:repeat]:
        start = time.perf_counter()
        for key in keys:
            fn(key)
        best = min(best, time.perf_counter() - start)
    return best / len(key_sets[0]) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    key_sets = [make_keys(args.keys) for _ in range(args.repeat)]
    keys = key_sets[0]

    session = boto3.Session(
        aws_access_key_id=ACCESS, aws_secret_access_key=SECRET, aws_session_token=TOKEN
    )
    client = session.client(
        "s3",
        region_name=REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )
    ours = S3GetPresigner(
        bucket=BUCKET,
        region=REGION,
        expires_in=3600,
        credentials=Credentials(ACCESS, SECRET, TOKEN),
    )

    def refresh() -> dict[str, str]:
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
        return {
            "access_key": ACCESS,
            "secret_key": SECRET,
            "token": TOKEN,
            "expiry_time": expiry.isoformat(),
        }

    ours_refreshable = S3GetPresigner(
        bucket=BUCKET,
        region=REGION,
        expires_in=3600,
        credentials=RefreshableCredentials.create_from_metadata(refresh(), refresh, "bench"),
    )

    def cdn_url(key: str) -> str:
        return f"https://{CDN}/{quote_key(key)}"

    def botocore_url(key: str) -> str:
        return client.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=3600
        )

    botocore_url(keys[0])  # first call loads models and endpoint rules
    results = {
        "CDN URL (f-string + quote_key)": per_call_us(cdn_url, key_sets, args.repeat),
        "botocore generate_presigned_url": per_call_us(
            botocore_url, key_sets, max(1, args.repeat - 1)
        ),
        "S3GetPresigner.presign": per_call_us(ours.presign, key_sets, args.repeat),
        "S3GetPresigner.presign (refreshable creds)": per_call_us(
            ours_refreshable.presign, key_sets, args.repeat
        ),
        # the same page again within the window: its URLs are kept, not signed again
        "S3GetPresigner.presign, page shown again": per_call_us(
            ours.presign, [keys[:50]] * args.repeat, args.repeat
        ),
    }
    print(f"{len(keys)} distinct keys, best of {args.repeat} runs, per URL:")
    for name, us in results.items():
        print(f"  {name:<44} {us:9.2f} µs")
    cdn, boto, mine = (
        results["CDN URL (f-string + quote_key)"],
        results["botocore generate_presigned_url"],
        results["S3GetPresigner.presign"],
    )
    print(f"  botocore / ours: {boto / mine:6.1f}x faster")
    print(f"  ours / CDN:      {mine / cdn:6.1f}x the cost of a CDN URL")
    print(f"  botocore / CDN:  {boto / cdn:6.1f}x")
    print(f"  page of 50 images: ours {50 * mine:.0f} µs, botocore {50 * boto:.0f} µs")


if __name__ == "__main__":
    main()
