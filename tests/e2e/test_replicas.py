"""Many resolver replicas behind one target: every replica gets its share of the calls,
from the typed client and from the wishlist API, and a replica that dies costs no call.

Replicas listen on 127.0.0.1, .2 and .3 on one port, as pods behind a headless Service
share a port; each has its own CDN domain, so an answer names the replica that gave it.
Measured before the client chose round_robin: 300 of 300 calls went to the first replica.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.conftest import api_settings, bearer, resolver_settings
from tests.support.background_api import BackgroundApi
from tests.support.dns import LoopbackDns
from tests.support.serve_process import serve_process
from wishlist_api.app import create_app
from wishlist_api.db import make_engine, session_factory
from wishlist_api.migrate import upgrade
from wishlist_api.repository import WishlistRepository
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import LocalAws
from wishlist_images_client import ImageResolverClient, ResolverCallError

KEY = "uploads/wishlist/u-1/a.jpg"
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
TOLERANCE = 0.15  # each replica within ±15 % of an even share


def domain(n: int) -> str:
    return f"d{n}11111abcdef8.cloudfront.net"


def _shared_port() -> int:
    """A port free on every replica's address."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((HOSTS[0], 0))
            port = int(probe.getsockname()[1])
        try:
            for host in HOSTS[1:]:
                with socket.socket() as other:
                    other.bind((host, port))
        except OSError:
            continue
        return port
    raise AssertionError("no port free on all replica addresses")


@pytest.fixture
def replicas(
    local_aws: LocalAws, request: pytest.FixtureRequest
) -> Iterator[list[EmbeddedResolver]]:
    port = _shared_port()
    started: list[EmbeddedResolver] = []
    age = getattr(request, "param", 300.0)  # GRPC_MAX_CONNECTION_AGE_SECONDS
    for n, host in enumerate(HOSTS, start=1):
        settings = resolver_settings(
            local_aws,
            cloudfront_distribution_domain=domain(n),
            grpc_port=port,
            grpc_max_connection_age_seconds=age,
            grpc_max_connection_age_grace_seconds=1.0,
        )
        started.append(EmbeddedResolver(settings, session=local_aws.session(), host=host).start())
    yield started
    for server in started:
        server.stop(grace=0.1)


def ipv4_target(replicas: list[EmbeddedResolver]) -> str:
    return "ipv4:" + ",".join(r.target for r in replicas)


def _which(url: str) -> str:
    return urlsplit(url).hostname or ""


def _assert_even(counts: Counter[str], calls: int, replicas: int) -> None:
    print("calls per replica:", sorted(counts.values()))
    share = calls / replicas
    assert len(counts) == replicas, counts
    for host, count in counts.items():
        assert abs(count - share) <= TOLERANCE * share, (host, dict(counts))


def _spread(client: ImageResolverClient, calls: int) -> Counter[str]:
    return Counter(_which(client.resolve(KEY, user_id="u-1").url) for _ in range(calls))


def test_the_client_spreads_calls_over_an_address_list(replicas) -> None:
    with ImageResolverClient(ipv4_target(replicas), timeout=5) as client:
        _assert_even(_spread(client, 300), 300, 3)


def test_pick_first_is_still_there_for_who_asks(replicas) -> None:
    """The old default, kept as a choice: every call on one replica."""
    with ImageResolverClient(ipv4_target(replicas), timeout=5, load_balancing="pick_first") as c:
        assert len(_spread(c, 60)) == 1


def test_the_client_spreads_calls_over_a_dns_name(replicas) -> None:
    """What a headless Service is: one name, an A record per ready pod."""
    port = replicas[0].port
    with LoopbackDns() as dns:
        dns.set("image-resolver-headless.test", HOSTS)
        target = dns.target("image-resolver-headless.test", port)
        with ImageResolverClient(target, timeout=5) as client:
            _assert_even(_spread(client, 300), 300, 3)


@pytest.mark.parametrize("replicas", [2.0], indirect=True)
def test_a_replica_added_behind_the_name_gets_calls_within_the_connection_age(
    replicas,
) -> None:
    """The client holds its connections; only the resolver's max connection age (GOAWAY,
    then a fresh DNS answer) brings the new replica in. Measured here: within a few seconds
    of a 2 s age (the client re-resolves at most every 5 s)."""
    port = replicas[0].port
    with LoopbackDns() as dns:
        dns.set("image-resolver-headless.test", HOSTS[:2])
        target = dns.target("image-resolver-headless.test", port)
        with ImageResolverClient(target, timeout=5) as client:
            assert set(_spread(client, 60)) == {domain(1), domain(2)}
            dns.set("image-resolver-headless.test", HOSTS)
            added = time.monotonic()
            while domain(3) not in _spread(client, 10):
                assert time.monotonic() - added < 20, "the new replica never got a call"
                time.sleep(0.1)
            took = time.monotonic() - added
            print(f"new replica's first call {took:.1f} s after its DNS record")
            assert took < 20


def test_an_unknown_load_balancing_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="round_robin, pick_first"):
        ImageResolverClient("127.0.0.1:1", load_balancing="random")


@pytest.fixture
def processes(local_aws: LocalAws) -> Iterator[list[tuple[subprocess.Popen[str], str]]]:
    """Three `image-resolver serve` processes: (process, target); SIGKILL one to crash it."""
    with ExitStack() as stack:
        yield [
            (proc, f"127.0.0.1:{port}")
            for n in (1, 2, 3)
            for proc, port in [
                stack.enter_context(
                    serve_process(local_aws.endpoint, CLOUDFRONT_DISTRIBUTION_DOMAIN=domain(n))
                )
            ]
        ]


def test_a_replica_killed_under_load_fails_no_call(processes) -> None:
    """SIGKILL, as a node lost: its calls in flight fail UNAVAILABLE and are retried on
    another replica inside their deadline (gRPC's retry policy), so no caller sees it."""
    target = "ipv4:" + ",".join(t for _, t in processes)
    failures: list[BaseException] = []
    answered: Counter[str] = Counter()
    stop = threading.Event()

    def load() -> None:
        with ImageResolverClient(target, timeout=2) as client:
            while not stop.is_set():
                try:
                    answered[_which(client.resolve(KEY, user_id="u-1").url)] += 1
                except ResolverCallError as exc:
                    failures.append(exc)

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)
    before = sum(answered.values())
    processes[1][0].send_signal(signal.SIGKILL)
    time.sleep(1.5)
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    assert not failures, failures[:3]
    assert before > 50 and sum(answered.values()) > before + 50, answered
    assert answered[domain(1)] and answered[domain(3)]


@pytest.fixture
def api_over(tmp_path: Path) -> Iterator[Callable[[str], tuple[BackgroundApi, str]]]:
    """An API (its own SQLite) on a resolver target, with one user's page of items."""
    started: list[BackgroundApi] = []

    def start(target: str) -> tuple[BackgroundApi, str]:
        url = f"sqlite:///{tmp_path}/wishlist.db"
        engine = make_engine(url)
        upgrade(engine)
        repo = WishlistRepository(session_factory(engine))
        for n in range(3):
            item = repo.create("u-spread", f"item {n}")
            repo.set_image("u-spread", item.id, f"uploads/wishlist/u-spread/{n}.jpg")
        repo.close()
        engine.dispose()
        api = BackgroundApi(create_app(api_settings(url, target, resolver_timeout_seconds=2)))
        started.append(api.start())
        return api, "u-spread"

    yield start
    for api in started:
        api.stop()


def test_the_api_spreads_pages_over_the_replicas(replicas, api_over) -> None:
    api, user = api_over(ipv4_target(replicas))
    counts: Counter[str] = Counter()
    with httpx.Client(base_url=api.url, timeout=10, headers=bearer(user)) as http:
        for _ in range(150):
            items = http.get("/api/wishlist").raise_for_status().json()["items"]
            assert {i["imageStatus"] for i in items} == {"ok"}
            (host,) = {_which(i["imageUrl"]) for i in items}  # one batch call per page
            counts[host] += 1
    _assert_even(counts, 150, 3)


def test_the_api_loses_no_page_when_a_replica_dies_under_load(processes, api_over) -> None:
    api, user = api_over("ipv4:" + ",".join(t for _, t in processes))
    statuses: Counter[str] = Counter()

    def pages(n: int) -> None:
        with httpx.Client(base_url=api.url, timeout=10, headers=bearer(user)) as http:
            for _ in range(n):
                items = http.get("/api/wishlist").raise_for_status().json()["items"]
                statuses.update(i["imageStatus"] for i in items)

    workers = [threading.Thread(target=pages, args=(60,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    processes[0][0].send_signal(signal.SIGKILL)
    for worker in workers:
        worker.join(timeout=60)
    assert statuses == Counter({"ok": 3 * 60 * 3}), statuses
