"""A failed load says why in the text report, not only in --json-out: each sample has a
`cause` (dns, connect, tls, timeout, http, status, refused-url) and the text prints the
count per cause with one example message. Real sockets on loopback throughout."""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path
from typing import Any

from image_ops.gates.config import load
from image_ops.probe import sampling
from image_ops.probe.output import to_text
from image_ops.probe.summary import summarise
from image_ops.probe.timing import CAUSES
from image_ops.probe.urls import UrlPolicy
from tests.conftest import ADMIN_TOKEN
from tests.ops.gating.conftest import (
    HandsOut,
    ImageServer,
    Listener,
    probe_args,
    run,
    set_flag,
    start_probe_resolver,
)
from tests.support.tls_certs import make_tls_files
from wishlist_images_client import ImageResolverClient


def probe_text(gates_file: Path, url: str, **kwargs: Any) -> tuple[dict[str, Any], str]:
    """One load of `url` through sampling, summary and the text report: (sample, text)."""
    samples = sampling.run(HandsOut([url]), ["k"], ["u"], timeout=2, **kwargs).samples
    report = summarise(samples, load(gates_file))
    [sample] = report["requests"]
    return sample, to_text(report)


def only(cause: str, count: int, example: str) -> str:
    """The failures line when every failure has this one cause."""
    return "failures: " + ", ".join(
        f"{cause} {count} ({example})" if c == cause else f"{c} 0" for c in CAUSES
    )


def test_a_run_whose_cdn_name_does_not_resolve_says_dns_and_why(
    start_resolver, put_object, gates_file, tmp_path, no_dns
) -> None:
    """The whole command: the resolver hands out a CDN host DNS does not know."""
    server = start_probe_resolver(start_resolver, "cdn.invalid", tmp_path, scheme="https")
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        set_flag(client, 100)
    out = tmp_path / "probe.json"
    args = probe_args(
        server.target, [put_object()], gates_file, out, "--users", "3", "--cdn-host",
        "cdn.invalid", pin=False,
    )  # fmt: skip
    code, text, err = run(*args)
    assert code == 1, text + err
    assert only("dns", 3, "cdn.invalid: gaierror: [Errno -2] Name or service not known") in text
    assert "5xx 100.0%" in text and "addresses: dns 3, pinned 0, localhost 0 " in text
    report = json.loads(out.read_text())
    assert [(r["cause"], r["resolved_by"], r["dns_ms"]) for r in report["requests"]] == [
        ("dns", "dns", None)
    ] * 3
    assert report["failures"]["dns"]["count"] == 3 and no_dns == ["cdn.invalid"] * 3


def test_a_closed_port_says_connect(gates_file) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sample, text = probe_text(gates_file, f"http://cdn.localhost:{port}/x.png")
    assert (sample["cause"], sample["address"]) == ("connect", "127.0.0.1, ::1")  # both tried
    expected = "cdn.localhost: ConnectionRefusedError: [Errno 111] Connection refused"
    assert only("connect", 1, expected) in text


def test_plain_http_on_an_https_url_says_tls(gates_file, image_server: ImageServer) -> None:
    sample, text = probe_text(gates_file, f"https://cdn.localhost:{image_server.port}/x.png")
    assert sample["cause"] == "tls" and sample["connect_ms"] is not None
    assert sample["tls_ms"] is None and sample["error"].startswith("SSLError: ")
    assert only("tls", 1, f"cdn.localhost: {sample['error']}") in text


def test_an_untrusted_certificate_says_tls(gates_file, tmp_path) -> None:
    certs = make_tls_files(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(certs.server_cert, certs.server_key)
    server = ImageServer(tls=served)
    url = f"https://localhost:{server.port}/x.png"  # the certificate names localhost
    try:
        good, _ = probe_text(gates_file, url, tls=ssl.create_default_context(cafile=certs.ca))
        bad, text = probe_text(
            gates_file, url, tls=ssl.create_default_context(cafile=certs.other_ca)
        )
    finally:
        server.close()
    assert (good["status"], good["cause"]) == (200, "")  # the right CA: it is the certificate
    assert bad["cause"] == "tls" and "CERTIFICATE_VERIFY_FAILED" in bad["error"]
    assert only("tls", 1, f"localhost: {bad['error']}") in text


def test_a_503_says_status(gates_file, image_server: ImageServer) -> None:
    image_server.status = 503
    sample, text = probe_text(gates_file, f"http://cdn.localhost:{image_server.port}/x.png")
    assert (sample["status"], sample["cause"], sample["error"]) == (503, "status", "")
    assert only("status", 1, "cdn.localhost: HTTP 503") in text


def test_a_server_that_never_answers_says_timeout(gates_file) -> None:
    with socket.socket() as s:  # connects (the backlog accepts), never answers
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        url = f"http://cdn.localhost:{s.getsockname()[1]}/x.png"
        sample, text = probe_text(gates_file, url)
    assert sample["cause"] == "timeout" and sample["connect_ms"] is not None
    assert only("timeout", 1, "cdn.localhost: TimeoutError: timed out") in text


def test_a_closed_connection_says_http(gates_file, listener: Listener) -> None:
    """Accepted and closed unread: a clean close or a reset, either way no HTTP answer."""
    sample, text = probe_text(gates_file, f"http://cdn.localhost:{listener.port}/x.png")
    assert sample["cause"] == "http" and listener.accepted == 1
    assert sample["error"].startswith(("RemoteDisconnected: ", "ConnectionResetError: "))
    assert only("http", 1, f"cdn.localhost: {sample['error']}") in text


def test_a_refused_url_says_refused_url(gates_file) -> None:
    policy = UrlPolicy.from_hosts(["cdn.localhost:1"], [])
    sample, text = probe_text(gates_file, "http://127.0.0.1:9/x.png", policy=policy)
    assert sample["cause"] == "refused-url"
    expected = "127.0.0.1: refused: 127.0.0.1:9 is not a configured cdn host"
    assert only("refused-url", 1, expected) in text


def test_the_example_is_escaped_in_the_text(gates_file) -> None:
    """A server's bytes end up in the message: a terminal escape must not reach stdout."""
    hostile = Listener(reply=b"HTTP/1.1 abc \x1b]0;pwned\x07\r\n\r\n")
    try:
        sample, text = probe_text(gates_file, f"http://cdn.localhost:{hostile.port}/x.png")
    finally:
        hostile.close()
    assert sample["cause"] == "http" and "\x1b" in sample["error"]  # JSON keeps it as is
    assert "\x1b" not in text and "\x07" not in text
    assert r"BadStatusLine: HTTP/1.1 abc \x1b]0;pwned\x07\x0d\x0a)" in text
