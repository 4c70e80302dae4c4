"""The probe resolves `localhost` and `*.localhost` to loopback itself, without DNS, as
browsers do (RFC 6761 section 6.3): the local demo's CDN is `cdn.localhost`, which
getaddrinfo here does not know (before, every load failed as a 5xx). `no_dns` makes
getaddrinfo fail for every name in this process, so a load that works used no DNS."""

from __future__ import annotations

import json
import socket

import pytest

from image_ops.probe.timing import fetch, is_localhost_name
from tests.ops.gating.conftest import PNG, ImageServer, probe_args, run, set_flag


@pytest.mark.parametrize(
    "name",
    ["localhost", "LOCALHOST", "localhost.", "cdn.localhost", "Cdn.LocalHost.", "a.b.localhost"],
)
def test_localhost_names_are_loopback(name: str) -> None:
    assert is_localhost_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "localhost.example.com",
        "localhost.invalid",
        "evil-localhost",
        "notlocalhost",
        "localhostx",
        "cdn.localhost.example",
        ".localhost",
        "cdn..localhost",
        "localhost..",
        "",
        "127.0.0.1",
        "::1",
    ],
)
def test_lookalikes_are_not(name: str) -> None:
    assert not is_localhost_name(name)


def test_a_localhost_url_loads_from_loopback_without_dns(
    image_server: ImageServer, no_dns: list[str]
) -> None:
    url = f"http://Cdn.LocalHost.:{image_server.port}/x.png"  # any case, a trailing dot
    sample = fetch(url, origin="cdn", user="u", timeout=2)
    assert (sample.status, sample.cause, sample.error) == (200, "", "")
    assert (sample.resolved_by, sample.address, sample.dns_ms) == ("localhost", "127.0.0.1", 0.0)
    assert sample.bytes == len(PNG) and image_server.requests == 1
    assert no_dns == []


def test_a_lookalike_name_is_left_to_dns(image_server: ImageServer, no_dns: list[str]) -> None:
    url = f"http://localhost.invalid:{image_server.port}/x.png"
    sample = fetch(url, origin="cdn", user="u", timeout=2)
    assert (sample.status, sample.cause, sample.resolved_by) == (0, "dns", "dns")
    assert sample.error == "gaierror: [Errno -2] Name or service not known"
    assert no_dns == ["localhost.invalid"] and image_server.requests == 0


def test_an_explicit_pin_wins_over_the_localhost_rule(no_dns: list[str]) -> None:
    """Pinned to 127.0.0.2, where the only server is: 127.0.0.1 would not have answered."""
    server = ImageServer("127.0.0.2")
    try:
        url = f"http://cdn.localhost:{server.port}/x.png"
        sample = fetch(url, origin="cdn", user="u", pinned={"cdn.localhost": "127.0.0.2"})
    finally:
        server.close()
    assert (sample.status, sample.resolved_by, sample.address, sample.dns_ms) == (
        200,
        "pinned",
        "127.0.0.2",
        0.0,
    )
    assert no_dns == []


def test_a_server_on_ipv6_loopback_only_is_reached_on_1(no_dns: list[str]) -> None:
    server = ImageServer("::1")
    try:
        with socket.socket() as probe:  # nothing may listen on 127.0.0.1 at the same port
            try:
                probe.bind(("127.0.0.1", server.port))
            except OSError:
                pytest.skip(f"127.0.0.1:{server.port} is taken")
        sample = fetch(f"http://localhost:{server.port}/x.png", origin="cdn", user="u")
    finally:
        server.close()
    assert (sample.status, sample.resolved_by, sample.address) == (200, "localhost", "::1")
    assert no_dns == []


def test_the_demo_probe_needs_no_resolve_pin(
    stack, put_object, gates_file, tmp_path, no_dns: list[str]
) -> None:
    """The demo's resolver hands out http://cdn.localhost:PORT URLs; without --resolve the
    probe loads them from loopback and passes."""
    set_flag(stack["client"], 100)
    keys = [put_object(body=PNG + bytes(i)) for i in range(2)]
    out = tmp_path / "probe.json"
    args = probe_args(stack["target"], keys, gates_file, out, "--users", "10", pin=False)
    code, text, err = run(*args)
    assert code == 0, text + err
    report = json.loads(out.read_text())
    assert {(r["resolved_by"], r["address"], r["dns_ms"]) for r in report["requests"]} == {
        ("localhost", "127.0.0.1", 0.0)
    }
    assert report["resolved_by"] == {"dns": 0, "pinned": 0, "localhost": 20}
    assert "addresses: dns 0, pinned 0, localhost 20 " in text
    assert "failures: none" in text and "probe: PASSED" in text
    assert no_dns == []
