"""TLS on the gRPC port (server, CLI, sync and aio clients), mTLS, and where admin calls
may travel in plaintext."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import grpc
import pytest

from image_resolver.config import ConfigError
from image_resolver.grpc_api import transport
from tests.conftest import ADMIN_TOKEN, CDN
from tests.support.cli_run import run_cli, run_ops
from tests.support.serve_process import serve_process
from tests.support.tls_certs import TlsFiles, make_tls_files
from wishlist_images_client import (
    AsyncImageResolverClient,
    ImageResolverClient,
    Origin,
    tls_credentials,
)
from wishlist_images_client.calls import ResolverCallError

KEY = "uploads/wishlist/u-1/a.jpg"


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path)


def _tls_settings(tls: TlsFiles, mutual: bool = False) -> dict[str, str]:
    settings = {
        "grpc_tls_cert_file": str(tls.server_cert),
        "grpc_tls_key_file": str(tls.server_key),
    }
    if mutual:
        settings["grpc_tls_client_ca_file"] = str(tls.ca)
    return settings


def test_tls_handshake_and_resolve_with_sync_and_aio_clients(start_resolver, tls) -> None:
    server = start_resolver(**_tls_settings(tls))
    with ImageResolverClient(server.target, credentials=tls_credentials(tls.ca)) as client:
        assert client.resolve(KEY).url == f"https://{CDN}/{KEY}"

    async def aio() -> Origin:
        client = AsyncImageResolverClient(
            server.target, timeout=5, credentials=tls_credentials(tls.ca)
        )
        try:
            return (await client.resolve(KEY)).origin
        finally:
            await client.close()

    assert asyncio.run(aio()) == Origin.CDN


@pytest.mark.parametrize("who", ["plaintext", "untrusted CA"])
def test_tls_port_refuses_plaintext_and_untrusted_servers(start_resolver, tls, who) -> None:
    server = start_resolver(**_tls_settings(tls))
    credentials = None if who == "plaintext" else tls_credentials(tls.other_ca)
    with ImageResolverClient(server.target, timeout=1, credentials=credentials) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.resolve(KEY)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE


def test_mtls_refuses_a_client_without_certificate(start_resolver, tls) -> None:
    server = start_resolver(**_tls_settings(tls, mutual=True))
    with ImageResolverClient(server.target, timeout=1, credentials=tls_credentials(tls.ca)) as c:
        with pytest.raises(ResolverCallError) as caught:
            c.resolve(KEY)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    with_cert = tls_credentials(tls.ca, tls.client_cert, tls.client_key)
    with ImageResolverClient(server.target, timeout=5, credentials=with_cert) as client:
        assert client.resolve(KEY).origin == Origin.CDN


def test_cli_resolve_and_health_over_tls(start_resolver, tls) -> None:
    server = start_resolver(**_tls_settings(tls, mutual=True))
    flags = ["--target", server.target, "--tls-ca", str(tls.ca)]
    flags += ["--tls-cert", str(tls.client_cert), "--tls-key", str(tls.client_key)]
    proc = run_ops("resolve", KEY, *flags)
    assert proc.returncode == 0, proc.stderr
    for run in (run_ops, run_cli):  # `health` is in the toolkit and in the resolver's image
        proc = run("health", *flags)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "SERVING"


@pytest.fixture
def loopback_is_remote(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests can only use loopback: treat 127.0.0.0/8 as another host (only ::1 is local)."""
    monkeypatch.setattr(transport, "LOOPBACK", (ipaddress.ip_network("::1/128"),))


def test_admin_calls_over_plaintext_from_another_host_are_refused(
    start_resolver, loopback_is_remote
) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id="E1")
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.get_rollout()
        assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert "TLS" in caught.value.message
        with pytest.raises(ResolverCallError) as caught:
            client.invalidate([KEY], "ref-1")
        assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert client.resolve(KEY).origin == Origin.CDN  # ordinary calls are not affected


def test_admin_calls_allowed_over_tls_or_when_plaintext_is_allowed(
    start_resolver, tls, loopback_is_remote
) -> None:
    secure = start_resolver(admin_token=ADMIN_TOKEN, **_tls_settings(tls))
    with ImageResolverClient(
        secure.target, admin_token=ADMIN_TOKEN, credentials=tls_credentials(tls.ca)
    ) as client:
        assert client.get_rollout().percent == 100
    allowed = start_resolver(admin_token=ADMIN_TOKEN, admin_allow_plaintext=True)
    with ImageResolverClient(allowed.target, admin_token=ADMIN_TOKEN) as client:
        assert client.get_rollout().percent == 100


@pytest.mark.parametrize(
    ("peer", "local"),
    [
        ("ipv4:127.0.0.1:5000", True),
        ("ipv4:127.8.9.10:5000", True),
        ("ipv6:[::1]:5000", True),
        ("ipv6:[::ffff:127.0.0.1]:5000", True),
        ("unix:/run/resolver.sock", True),
        ("ipv4:10.1.2.3:5000", False),
        ("ipv6:[fd00::1]:5000", False),
        ("ipv6:[::ffff:10.0.0.1]:5000", False),
        ("bogus", False),
    ],
)
def test_peer_is_local(peer: str, local: bool) -> None:
    assert transport.peer_is_local(peer) is local


def test_tls_settings_come_in_pairs(make_settings, tls) -> None:
    with pytest.raises(ConfigError, match="GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE"):
        make_settings(grpc_tls_cert_file=str(tls.server_cert))
    with pytest.raises(ConfigError, match="GRPC_TLS_CLIENT_CA_FILE"):
        make_settings(grpc_tls_client_ca_file=str(tls.ca))
    with pytest.raises(ConfigError, match="GRPC_TLS_KEY_FILE"):
        make_settings(grpc_tls_cert_file=str(tls.server_cert), grpc_tls_key_file="/nonexistent")


def test_metrics_bind_like_grpc_unless_told(make_settings) -> None:
    assert make_settings(grpc_host="127.0.0.1").metrics_bind_host == "127.0.0.1"
    assert make_settings(grpc_host="[::]").metrics_bind_host == "::"
    assert (
        make_settings(grpc_host="127.0.0.1", metrics_host="0.0.0.0").metrics_bind_host == "0.0.0.0"
    )


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                address, _, hex_port = fields[1].partition(":")
                if fields[3] == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def test_metrics_port_listens_on_the_grpc_host_only(local_aws) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with serve_process(local_aws.endpoint, METRICS_PORT=str(port)):
        assert _listening(port) == {"0100007F"}  # 127.0.0.1, not 0.0.0.0
