"""grpc.aio server vs sync (thread-pool) server under load from separate client processes.

    python benchmarks/bench_server_kinds.py [--seconds 3] [--clients 4]

Both servers run the same echo handler (ResolveImageUrl request in, response out) in a
process of their own; clients are other processes, so the server is not sharing its GIL
with the load generator. Prints calls/s and p50/p99 for each kind under: one sequential
client, several sequential clients, and one asyncio client with 64 calls in flight. The
variants alternate per round, so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import time
from concurrent import futures
from typing import Any

import grpc
from echo import REQ, echo, echo_async, echo_handler, echo_stub


def _serve(kind: str, port_out: Any, stop: Any) -> None:
    if kind == "sync":
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        server.add_generic_rpc_handlers((echo_handler(echo),))
        port_out.put(server.add_insecure_port("127.0.0.1:0"))
        server.start()
        stop.wait()
        server.stop(0)
        return

    async def run() -> None:
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((echo_handler(echo_async),))
        port_out.put(server.add_insecure_port("127.0.0.1:0"))
        await server.start()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await server.stop(0)

    asyncio.run(run())


def _sequential_client(target: str, seconds: float, out: Any) -> None:
    with grpc.insecure_channel(target) as channel:
        call = echo_stub(channel)
        for _ in range(200):
            call(REQ, timeout=5)
        lat = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            call(REQ, timeout=5)
            lat.append(time.perf_counter() - t0)
    out.put(lat)


def _concurrent_client(target: str, seconds: float, out: Any) -> None:
    async def run() -> list[float]:
        async with grpc.aio.insecure_channel(target) as channel:
            call = echo_stub(channel)
            lat: list[float] = []
            end = time.perf_counter() + seconds

            async def worker() -> None:
                while time.perf_counter() < end:
                    t0 = time.perf_counter()
                    await call(REQ, timeout=5)
                    lat.append(time.perf_counter() - t0)

            await asyncio.gather(*(worker() for _ in range(64)))
            return lat

    out.put(asyncio.run(run()))


def _load(target: str, client: Any, processes: int, seconds: float) -> list[float]:
    out: Any = mp.Queue()
    procs = [mp.Process(target=client, args=(target, seconds, out)) for _ in range(processes)]
    for p in procs:
        p.start()
    lat = [x for _ in procs for x in out.get(timeout=seconds + 60)]
    for p in procs:
        p.join()
    return lat


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ctx_stop = {k: mp.Event() for k in ("aio", "sync")}
    servers, targets = [], {}
    for kind, stop in ctx_stop.items():
        port_out: Any = mp.Queue()
        proc = mp.Process(target=_serve, args=(kind, port_out, stop))
        proc.start()
        servers.append(proc)
        targets[kind] = f"127.0.0.1:{port_out.get(timeout=30)}"
    loads = {
        "1 sequential client": (_sequential_client, 1),
        f"{args.clients} sequential clients": (_sequential_client, args.clients),
        "64 in flight (aio client)": (_concurrent_client, 1),
    }
    results: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(args.rounds):
            for load, (client, n) in loads.items():
                for kind, target in targets.items():
                    results.setdefault((load, kind), []).extend(
                        _load(target, client, n, args.seconds)
                    )
    finally:
        for stop in ctx_stop.values():
            stop.set()
        for proc in servers:
            proc.join(timeout=10)
    seconds = args.seconds * args.rounds
    for load in loads:
        print(load)
        rate = {}
        for kind in targets:
            lat = sorted(results[(load, kind)])
            rate[kind] = len(lat) / seconds
            p99 = lat[int(len(lat) * 0.99)]
            print(
                f"  {kind:<5} {rate[kind]:8.0f} calls/s   p50 {statistics.median(lat) * 1e6:7.0f} us"
                f"   p99 {p99 * 1e6:7.0f} us"
            )
        print(f"  sync/aio throughput ratio: {rate['sync'] / rate['aio']:.2f}")


if __name__ == "__main__":
    main()
