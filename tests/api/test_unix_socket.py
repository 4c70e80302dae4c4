"""Sidecar layout: the API reaches the resolver over a Unix socket file, not TCP.

GRPC_UNIX_SOCKET makes the resolver also listen on `unix:PATH`; the API's
RESOLVER_TARGET=unix:///PATH is grpc's own target syntax, so no client change is needed.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from image_resolver.config import MAX_SOCKET_PATH, ConfigError, load_settings
from tests.api.conftest import bearer, resolver_settings
from tests.conftest import CDN
from tests.support.background_api import BackgroundApi
from wishlist_api.repository import WishlistRepository
from wishlist_dev.demo_data import PREFIX
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import LocalAws


def test_api_resolves_image_urls_over_a_unix_socket(
    tmp_path: Path,
    local_aws: LocalAws,
    start_api: Callable[..., BackgroundApi],
    repo: WishlistRepository,
    user: str,
) -> None:
    sock = tmp_path / "grpc.sock"
    settings = resolver_settings(local_aws, grpc_unix_socket=str(sock))
    with EmbeddedResolver(settings, session=local_aws.session()):
        assert stat.S_ISSOCK(sock.stat().st_mode)
        api = start_api(f"unix://{sock}")  # unix:///abs/path: three slashes in all
        key = f"{PREFIX}{user}/uds.png"
        item = repo.create(user, "over a socket", image_key=key, image_version=2)
        resp = httpx.get(f"{api.url}/api/wishlist/{item.id}", headers=bearer(user), timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["imageUrl"], body["imageStatus"]) == (f"https://{CDN}/{key}?v=2", "ok")


@pytest.mark.parametrize("path", ["grpc.sock", "run/grpc.sock", "/" + "s" * MAX_SOCKET_PATH])
def test_socket_path_must_be_absolute_and_fit_sun_path(path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(grpc_unix_socket=path)
    assert "GRPC_UNIX_SOCKET" in str(caught.value)


def test_an_empty_socket_setting_means_tcp_only() -> None:
    assert load_settings(grpc_unix_socket="").grpc_unix_socket is None
    assert load_settings(grpc_unix_socket="/run/r/grpc.sock").grpc_unix_socket == "/run/r/grpc.sock"
