"""The batch handler's cost per key, this tree against a git revision, in one run.

    python benchmarks/ab_batch_handler.py [--base 4e9469e] [--rounds 4]

A shared 2-core VM swings single figures 2x within seconds, so a handler change is
judged by an A/B: the base revision is checked out into a temporary worktree, and
processes of each side alternate, round by round (`PYTHONPATH` puts the base's
packages first). Each process times `ImageUrlServicer.BatchResolveImageUrls`
in-process for a batch of 1000 new keys and for the wishlist page's shape (50 refs,
half legacy S3 URLs, with fallbacks) and reports the best of its 50-call medians,
which steal time inflates least. Prints both sides per round and the new/base ratio
of the medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_WORKER = r"""
import asyncio, json, statistics, time
from image_resolver.config import PLACEHOLDER_CDN_DOMAIN, load_settings
from image_resolver.grpc_api.image_service import ImageUrlServicer
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist_dev.demo_data import PREFIX, legacy_urls
from wishlist_dev.embedded import EmbeddedResolver

BUCKET = "lego-moc-wishlist-uploads"
batch = pb.BatchResolveImageUrlsRequest(
    images=[pb.ImageRef(ref=f"{PREFIX}user-{i % 97}/image-{i}.jpg") for i in range(1000)],
    user_id="user-1",
)
forms = list(legacy_urls(BUCKET, "us-east-1", "k"))
page = pb.BatchResolveImageUrlsRequest(user_id="user-1", include_fallback=True)
for n in range(50):
    key = f"{PREFIX}bench-user/{n:04d}.jpg"
    if n % 2 == 0:
        page.images.add(ref=key, version=str(n % 3) if n % 3 else "")
    else:
        page.images.add(ref=legacy_urls(BUCKET, "us-east-1", key)[forms[n % len(forms)]])


class Context:
    def invocation_metadata(self):
        return ()


settings = load_settings(
    cloudfront_distribution_domain=PLACEHOLDER_CDN_DOMAIN,
    s3_fallback_mode="public",
    cdn_rollout_percent=100,
    grpc_port=0,
    metrics_port=0,
)
with EmbeddedResolver(settings) as server:
    servicer = ImageUrlServicer(server.components.resolver)
    loop = asyncio.new_event_loop()
    out = {}
    for name, request, calls in (("batch of 1000", batch, 150), ("page of 50", page, 1500)):
        def once():
            start = time.perf_counter()
            loop.run_until_complete(servicer.BatchResolveImageUrls(request, Context()))
            return time.perf_counter() - start
        for _ in range(20):
            once()
        times = [once() for _ in range(calls)]
        best = min(statistics.median(times[i : i + 50]) for i in range(0, calls, 50))
        out[name] = best / len(request.images) * 1e6
    loop.close()
print(json.dumps(out))
"""


def run_side(pythonpath: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run(
        [sys.executable, "-c", _WORKER], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="4e9469e", help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    known = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{args.base}^{{commit}}"],
        check=False,
        capture_output=True,
    )
    if known.returncode != 0:
        print(f"skipped: revision {args.base} is not in this clone (shallow?); nothing to compare")
        return 0
    with tempfile.TemporaryDirectory(prefix="ab-handler-") as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "worktree",
                "add",
                "--detach",
                "-q",
                str(base_tree),
                args.base,
            ],
            check=True,
        )
        try:
            base_path = os.pathsep.join(str(base_tree / p) for p in ("server", "client", "dev"))
            sides: dict[str, list[dict[str, float]]] = {"base": [], "new": []}
            for n in range(args.rounds):
                order = [("base", base_path), ("new", None)]
                for side, path in order if n % 2 == 0 else reversed(order):
                    sides[side].append(run_side(path))
                print(
                    f"round {n + 1}: "
                    + "; ".join(
                        f"{side} " + ", ".join(f"{k} {v:.2f} us/key" for k, v in s[-1].items())
                        for side, s in sides.items()
                    )
                )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)],
                check=False,
            )
    print(f"handler per key, new (working tree) vs base ({args.base}), medians of rounds:")
    for name in sides["new"][0]:
        base = statistics.median(r[name] for r in sides["base"])
        new = statistics.median(r[name] for r in sides["new"])
        print(f"  {name:<14} base {base:6.2f}  new {new:6.2f} us/key  new/base {new / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
