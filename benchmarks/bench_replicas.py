"""Aggregate throughput with one and with two resolver replicas, under the same client load.

    python benchmarks/bench_replicas.py [--seconds 3] [--clients 3] [--rounds 3]

Two `image-resolver serve` processes run for the whole benchmark; each round loads either
one of them (target `ipv4:A`) or both (`ipv4:A,B`, the typed client's round_robin), from
the same number of client processes each sending pages of 50 refs (the API's call). The
setups alternate per round, so machine noise hits both alike. On a 2-core machine the
client processes compete with the replicas for the same cores, so the ratio shows that
calls spread and do not queue on one replica, not the gain a real second node gives.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import grpc

KEYS = [f"uploads/wishlist/bench-user/img-{n}.jpg" for n in range(50)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _replica(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": str(port),
        "METRICS_PORT": "0",
        "CLOUDFRONT_DISTRIBUTION_DOMAIN": "d111111abcdef8.cloudfront.net",
        "CDN_ROLLOUT_PERCENT": "50",  # half the viewers get S3 URLs: both paths run
        "S3_FALLBACK_MODE": "public",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "image_resolver.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
    return proc


def _client(target: str, seconds: float, out: Any) -> None:
    from wishlist_images_client import ImageResolverClient

    with ImageResolverClient(target, timeout=5) as client:
        for n in range(20):  # connect to every replica before timing
            client.batch_resolve_urls(KEYS, user_id=f"warm-{n}")
        calls = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            client.batch_resolve_urls(KEYS, user_id=f"viewer-{calls % 997}")
            calls += 1
    out.put(calls)


def _round(target: str, clients: int, seconds: float) -> float:
    out: Any = mp.Queue()
    procs = [mp.Process(target=_client, args=(target, seconds, out)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    total = sum(out.get(timeout=seconds + 60) for _ in procs)
    for proc in procs:
        proc.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ports = [_free_port(), _free_port()]
    replicas = [_replica(port) for port in ports]
    try:
        one = f"ipv4:127.0.0.1:{ports[0]}"
        two = f"ipv4:127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}"
        rates: dict[str, list[float]] = {"1 replica": [], "2 replicas": []}
        for _ in range(args.rounds):
            rates["1 replica"].append(_round(one, args.clients, args.seconds))
            rates["2 replicas"].append(_round(two, args.clients, args.seconds))
    finally:
        for proc in replicas:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"{args.clients} client processes, pages of {len(KEYS)} refs, {args.seconds:g} s a round")
    for name, values in rates.items():
        print(
            f"  {name:10s} {statistics.median(values):8.0f} pages/s  (rounds: "
            + ", ".join(f"{v:.0f}" for v in values)
            + ")"
        )
    ratio = statistics.median(rates["2 replicas"]) / statistics.median(rates["1 replica"])
    print(
        f"  two replicas / one: {ratio:.2f} x  ({os.cpu_count()} cores shared by clients "
        "and replicas)"
    )


if __name__ == "__main__":
    main()
