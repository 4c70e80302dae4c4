"""RS256 verification from a PEM key and from a JWKS URL, configured the way operators do:
through the environment, where an unset-but-present variable is an empty string (issue 12:
`JWT_SECRET=""` next to `JWT_PUBLIC_KEY` made every RS256 token 401)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.api.conftest import JWT_SECRET
from tests.api.test_wishlist_api import assert_error
from tests.support.background_api import BackgroundApi
from wishlist_api.settings import ApiSettings, ConfigError, load_settings

JWT_VARS = ("JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE")


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _rs256(key: rsa.RSAPrivateKey, sub: str, kid: str | None = None) -> str:
    payload = {"sub": sub, "exp": int(time.time()) + 300}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid} if kid else None)


@pytest.fixture
def env_api(
    serve_api: Callable[[ApiSettings], BackgroundApi],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., BackgroundApi]:
    """Start an API whose JWT settings come only from these environment variables; every
    JWT variable not given is present and empty, as `JWT_SECRET=` in a manifest leaves it."""

    def start(**env: str) -> BackgroundApi:
        for name in JWT_VARS:
            monkeypatch.setenv(name, env.get(name, ""))
        return serve_api(load_settings(database_url=database_url, images_enabled=False))

    return start


def _list(api: BackgroundApi, token: str) -> httpx.Response:
    return httpx.get(f"{api.url}/api/wishlist", headers={"Authorization": f"Bearer {token}"})


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    pem = _public_pem(_private_key())
    for name in JWT_VARS:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("JWT_PUBLIC_KEY", pem)
    settings = load_settings()
    assert settings.jwt_secret is None and settings.jwt_jwks_url is None
    assert settings.jwt_issuer is None and settings.jwt_audience is None
    assert settings.jwt_public_key == pem
    monkeypatch.setenv("JWT_PUBLIC_KEY", "  ")
    with pytest.raises(ConfigError, match="exactly one of JWT_SECRET"):
        load_settings()


def test_rs256_with_a_pem_public_key_and_an_empty_secret(
    env_api: Callable[..., BackgroundApi],
) -> None:
    key = _private_key()
    api = env_api(JWT_PUBLIC_KEY=_public_pem(key))
    resp = _list(api, _rs256(key, "u-rs256"))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"items": [], "nextCursor": None}
    assert_error(_list(api, _rs256(_private_key(), "u-rs256")), 401, "unauthenticated")
    hs256 = jwt.encode({"sub": "u-rs256", "exp": int(time.time()) + 60}, JWT_SECRET, "HS256")
    assert_error(_list(api, hs256), 401, "unauthenticated")


class _JwksServer:
    """A JWKS document on loopback, counting how often it is fetched; `delay` holds each
    answer that long (a hung identity provider), `status` answers with another status,
    `raw` with another body (an HTML error page from a proxy), and `drip` sends the body
    one byte every `drip` seconds (an endpoint no per-read timeout catches)."""

    def __init__(
        self,
        document: dict[str, Any],
        delay: float = 0,
        status: int = 200,
        raw: bytes | None = None,
        drip: float = 0,
    ) -> None:
        body = json.dumps(document).encode() if raw is None else raw
        self.fetches = 0
        self._closing = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                if outer._closing.wait(delay):
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not drip:
                    self.wfile.write(body)
                    return
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    if outer._closing.wait(drip):
                        return

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()


def test_rs256_with_a_jwks_url_and_empty_secret_and_key(
    env_api: Callable[..., BackgroundApi],
) -> None:
    key = _private_key()
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True) | {
        "kid": "k-1",
        "use": "sig",
        "alg": "RS256",
    }
    jwks = _JwksServer({"keys": [jwk]})
    try:
        api = env_api(JWT_JWKS_URL=jwks.url)
        for _ in range(2):
            resp = _list(api, _rs256(key, "u-jwks", kid="k-1"))
            assert resp.status_code == 200, resp.text
            assert resp.json() == {"items": [], "nextCursor": None}
        assert jwks.fetches == 1  # cached between requests
        assert_error(
            _list(api, _rs256(_private_key(), "u-jwks", kid="k-1")), 401, "unauthenticated"
        )
        assert_error(_list(api, _rs256(key, "u-jwks", kid="other")), 401, "unauthenticated")
    finally:
        jwks.close()


def _jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": "k-1", "use": "sig", "alg": "RS256"}


@pytest.mark.parametrize(
    ("timeout_env", "delay", "status", "raw", "within"),
    [
        ("", 12.0, 200, None, (4.0, 8.0)),  # the default: about 5 s, not PyJWT's 30 s
        ("1", 12.0, 200, None, (0.5, 3.0)),
        ("1", 0.0, 500, None, (0.0, 3.0)),
        ("1", 0.0, 200, b"<html>502 Bad Gateway</html>", (0.0, 3.0)),
    ],
    ids=[
        "hangs, default timeout",
        "hangs, JWT_JWKS_TIMEOUT_SECONDS=1",
        "answers 500",
        "answers 200 with an HTML page",
    ],
)
def test_a_jwks_outage_is_a_fast_503_with_retry_after_not_a_401(
    env_api: Callable[..., BackgroundApi],
    monkeypatch: pytest.MonkeyPatch,
    timeout_env: str,
    delay: float,
    status: int,
    raw: bytes | None,
    within: tuple[float, float],
) -> None:
    """The identity provider being down is the server's problem, not the token's: a 401
    would tell clients to sign in again; 503 + Retry-After tells them to retry."""
    key = _private_key()
    jwks = _JwksServer({"keys": [_jwk(key)]}, delay=delay, status=status, raw=raw)
    monkeypatch.setenv("JWT_JWKS_TIMEOUT_SECONDS", timeout_env)
    try:
        api = env_api(JWT_JWKS_URL=jwks.url)
        started = time.monotonic()
        resp = httpx.get(
            f"{api.url}/api/wishlist",
            headers={"Authorization": f"Bearer {_rs256(key, 'u-jwks', kid='k-1')}"},
            timeout=20,
        )
        elapsed = time.monotonic() - started
    finally:
        jwks.close()
    error = assert_error(resp, 503, "auth_unavailable")
    assert resp.headers["Retry-After"] == "2"
    assert "127.0.0.1" not in str(error["message"])  # the JWKS URL is not echoed
    assert within[0] <= elapsed < within[1], elapsed
    assert jwks.fetches == 1


def _eight_at_once_all_fail_fast(
    env_api: Callable[..., BackgroundApi], monkeypatch: pytest.MonkeyPatch, jwks: _JwksServer
) -> None:
    """8 concurrent signed-in requests against `jwks` with a 1 s timeout: each a 503
    within 3 s, and one fetch for all of them."""
    key = _private_key()
    monkeypatch.setenv("JWT_JWKS_TIMEOUT_SECONDS", "1")
    token = _rs256(key, "u-jwks", kid="k-1")

    def one(_: int) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        resp = httpx.get(
            f"{api.url}/api/wishlist", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        return resp, time.monotonic() - started

    try:
        api = env_api(JWT_JWKS_URL=jwks.url)
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(8)))
    finally:
        jwks.close()
    for resp, elapsed in results:
        assert_error(resp, 503, "auth_unavailable")
        assert elapsed < 3.0, [round(e, 2) for _, e in results]
    assert jwks.fetches == 1


def test_concurrent_requests_during_a_jwks_outage_all_fail_within_one_timeout(
    env_api: Callable[..., BackgroundApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyJWT fetches under a lock and remembers no failure: without the API's own memory
    of the outage, the 8th of 8 waiting requests took 8 timeouts."""
    jwks = _JwksServer({"keys": [_jwk(_private_key())]}, delay=12.0)
    _eight_at_once_all_fail_fast(env_api, monkeypatch, jwks)


def test_a_dripping_jwks_is_bounded_as_a_whole_fetch(
    env_api: Callable[..., BackgroundApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte every 0.5 s never trips a 1 s per-read timeout: before the fix, 8 requests
    took 32 s. The whole fetch is bounded, and a request queued behind it waits at most
    one timeout."""
    jwks = _JwksServer({"keys": [_jwk(_private_key())]}, drip=0.5)
    _eight_at_once_all_fail_fast(env_api, monkeypatch, jwks)


def test_jwks_timeout_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in JWT_VARS:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("JWT_JWKS_URL", "https://idp.example/.well-known/jwks.json")
    assert load_settings().jwt_jwks_timeout_seconds == 5
    for bad in ("0", "31", "soon"):
        monkeypatch.setenv("JWT_JWKS_TIMEOUT_SECONDS", bad)
        with pytest.raises(ConfigError, match="JWT_JWKS_TIMEOUT_SECONDS"):
            load_settings()
