"""The API reaching a resolver that serves TLS (GRPC_TLS_*), end to end: a real resolver on
loopback, the real API over HTTP, certificates from a throw-away CA.

RESOLVER_TLS_CA / RESOLVER_TLS_CERT / RESOLVER_TLS_KEY are the API's side of the
resolver's GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE / GRPC_TLS_CLIENT_CA_FILE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import JWT_SECRET, bearer, resolver_settings, run_api_serve
from tests.conftest import CDN
from tests.support.background_api import BackgroundApi
from tests.support.tls_certs import TlsFiles, make_tls_files
from wishlist_api.repository import WishlistRepository
from wishlist_api.settings import ConfigError, load_settings
from wishlist_dev.demo_data import PREFIX
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import LocalAws


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path)


@pytest.fixture
def tls_resolver(
    local_aws: LocalAws, tls: TlsFiles
) -> Iterator[Callable[[bool], EmbeddedResolver]]:
    """A resolver whose gRPC port speaks TLS only; `mutual`: clients need a certificate."""
    started: list[EmbeddedResolver] = []

    def start(mutual: bool) -> EmbeddedResolver:
        files = {
            "grpc_tls_cert_file": str(tls.server_cert),
            "grpc_tls_key_file": str(tls.server_key),
        }
        if mutual:
            files["grpc_tls_client_ca_file"] = str(tls.ca)
        server = EmbeddedResolver(
            resolver_settings(local_aws, **files), session=local_aws.session()
        )
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop(grace=0.1)


def _page(api: BackgroundApi, repo: WishlistRepository, user: str) -> list[tuple[str, str]]:
    """Two items with images on one page; (imageStatus, imageUrl) of each, newest first."""
    keys = [f"{PREFIX}{user}/tls-{n}.png" for n in (1, 2)]
    for key in keys:
        repo.create(user, "over TLS", image_key=key, image_version=1)
    resp = httpx.get(f"{api.url}/api/wishlist", headers=bearer(user), timeout=10)
    assert resp.status_code == 200, resp.text
    return sorted((i["imageStatus"], i["imageUrl"] or "") for i in resp.json()["items"])


def _cdn_urls(user: str) -> list[tuple[str, str]]:
    return [("ok", f"https://{CDN}/{PREFIX}{user}/tls-{n}.png?v=1") for n in (1, 2)]


@pytest.mark.parametrize("mutual", [False, True], ids=["TLS", "mTLS"])
def test_api_resolves_a_page_over_tls(
    mutual: bool,
    tls: TlsFiles,
    tls_resolver: Callable[[bool], EmbeddedResolver],
    start_api: Callable[..., BackgroundApi],
    repo: WishlistRepository,
    user: str,
) -> None:
    """The resolver's CA to trust; with mTLS, the API's certificate and key as well."""
    resolver = tls_resolver(mutual)
    client_pair = (
        {"resolver_tls_cert": str(tls.client_cert), "resolver_tls_key": str(tls.client_key)}
        if mutual
        else {}
    )
    api = start_api(resolver.target, resolver_tls_ca=str(tls.ca), **client_pair)
    assert _page(api, repo, user) == _cdn_urls(user)


@pytest.mark.parametrize("mistake", ["untrusted CA", "no client certificate", "plaintext"])
def test_a_failed_handshake_degrades_images_to_unavailable_never_500(
    mistake: str,
    tls: TlsFiles,
    tls_resolver: Callable[[bool], EmbeddedResolver],
    start_api: Callable[..., BackgroundApi],
    repo: WishlistRepository,
    user: str,
) -> None:
    resolver = tls_resolver(mistake == "no client certificate")
    ca = {"untrusted CA": str(tls.other_ca), "no client certificate": str(tls.ca)}.get(mistake)
    api = start_api(resolver.target, resolver_tls_ca=ca)
    assert _page(api, repo, user) == [("unavailable", ""), ("unavailable", "")]


def test_tls_is_off_unless_asked_and_on_with_any_tls_variable(tls: TlsFiles) -> None:
    base = {"jwt_secret": JWT_SECRET}
    assert load_settings(**base).resolver_credentials() is None
    assert load_settings(**base, resolver_tls_ca="").resolver_credentials() is None
    assert load_settings(**base, resolver_tls=True).resolver_credentials() is not None
    assert load_settings(**base, resolver_tls_ca=str(tls.ca)).resolver_credentials() is not None


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ("cert only", "RESOLVER_TLS_KEY"),
        ("key only", "RESOLVER_TLS_CERT"),
        ("missing CA file", "RESOLVER_TLS_CA"),
        ("CA is a folder", "RESOLVER_TLS_CA"),
        ("CA is not PEM", "RESOLVER_TLS_CA"),
        ("CA is /dev/zero", "RESOLVER_TLS_CA"),
    ],
)
def test_bad_tls_settings_stop_start_up_with_one_line_naming_the_variable(
    given: str, named: str, tls: TlsFiles, tmp_path: Path
) -> None:
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate\n")
    env = {
        "cert only": {"RESOLVER_TLS_CERT": str(tls.client_cert)},
        "key only": {"RESOLVER_TLS_KEY": str(tls.client_key)},
        "missing CA file": {"RESOLVER_TLS_CA": str(tmp_path / "absent.pem")},
        "CA is a folder": {"RESOLVER_TLS_CA": str(tmp_path)},
        "CA is not PEM": {"RESOLVER_TLS_CA": str(not_pem)},
        "CA is /dev/zero": {"RESOLVER_TLS_CA": "/dev/zero"},  # endless: the read is bounded
    }[given]
    done = run_api_serve(env)
    assert done.returncode == 2, done.stderr
    (line,) = [ln for ln in done.stderr.splitlines() if "RESOLVER_TLS" in ln]
    assert named in line
    assert line.lstrip().startswith(named) or f"{named} is missing" in line
    assert "Traceback" not in done.stderr


def test_settings_error_names_the_file_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(jwt_secret=JWT_SECRET, resolver_tls_cert=str(tmp_path / "absent.pem"))
    assert "RESOLVER_TLS_CERT: Value error, cannot read the file" in str(caught.value)
