"""A browser (Playwright on Debian's Chromium) loading the gallery through the local edge.

The page keeps production-shaped `https://d111111abcdef8.cloudfront.net/...` image URLs;
Chromium's --host-resolver-rules sends that host to the local edge's TLS port. Browsers are
never downloaded: a missing Chromium skips the suite locally and fails it in CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import JWT_SECRET, api_settings, resolver_settings
from tests.conftest import BUCKET, CDN
from tests.support.background_api import BackgroundApi
from tests.support.edge import edge_binaries  # noqa: F401 - skip/fail rule for the edge
from wishlist_api.app import create_app
from wishlist_api.db import make_engine, session_factory
from wishlist_api.migrate import upgrade
from wishlist_api.pages import SESSION_COOKIE
from wishlist_api.repository import WishlistRepository
from wishlist_dev.edge import LocalEdge
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import LocalAws
from wishlist_dev.tokens import mint_token

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require(what: str, missing: bool) -> None:
    if missing:
        message = f"{what} is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    _require("Debian's chromium", not path)
    return path


@dataclass
class Stack:
    """One API + resolver pair in front of the shared edge and moto."""

    api: BackgroundApi
    resolver: EmbeddedResolver
    edge: LocalEdge
    aws: LocalAws
    repo: WishlistRepository
    stopped: list[Any] = field(default_factory=list)

    def put_image(self, key: str, png: bytes) -> None:
        self.aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=png, ContentType="image/png")


@pytest.fixture(scope="session")
def edge(edge_binaries: None, local_aws: LocalAws) -> Iterator[LocalEdge]:  # noqa: F811
    # Fixed ports, so the browser's host mapping survives stop()/start() of the edge.
    started = LocalEdge(
        local_aws.endpoint,
        BUCKET,
        cdn_hosts=[CDN],
        parameters={"WebAppOrigin": "*"},
        ttl_overrides={"error_ttl": 1},
        http_port=_free_port(),
        https_port=_free_port(),
    ).start()
    yield started
    started.close()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The page is what is under test here, not the database: one SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('gallery') / 'wishlist.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture
def make_stack(
    local_aws: LocalAws, edge: LocalEdge, database: tuple[str, Any]
) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []
    database_url, engine = database
    repo = WishlistRepository(session_factory(engine))

    def make(**resolver_overrides: Any) -> Stack:
        resolver = EmbeddedResolver(
            resolver_settings(local_aws, **resolver_overrides), session=local_aws.session()
        ).start()
        app = create_app(api_settings(database_url, resolver.target), engine=engine)
        stack = Stack(BackgroundApi(app).start(), resolver, edge, local_aws, repo)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.api.stop()
        stack.resolver.stop(grace=0.1)


# Package scope, not session: Playwright's sync API keeps an asyncio loop running in the
# main thread while it is open, so any later test calling asyncio.run() would fail.
@pytest.fixture(scope="package")
def browser(chromium_path: str, edge: LocalEdge) -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium_path,
            args=[
                *CHROMIUM_ARGS,
                f"--host-resolver-rules=MAP {CDN} 127.0.0.1:{edge.https_port}",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def user() -> str:
    return f"u-{uuid.uuid4().hex[:16]}"


@dataclass
class Visit:
    """One page load in a fresh browser context, with every image request it made."""

    page: Any
    requests: list[Any]
    responses: list[Any]

    def image_states(self) -> list[dict[str, Any]]:
        return list(
            self.page.eval_on_selector_all(
                "img[data-image]",
                """imgs => imgs.map(i => ({src: i.currentSrc, state: i.dataset.state || 'primary',
                    loaded: i.dataset.loaded || null, width: i.naturalWidth,
                    hidden: i.hidden, cdnStatus: i.dataset.cdnStatus || null}))""",
            )
        )

    def image_request_urls(self) -> list[str]:
        return [r.url for r in self.requests if r.resource_type == "image"]


@pytest.fixture
def visit(browser: Any) -> Iterator[Callable[[Stack, str], Visit]]:
    contexts: list[Any] = []

    def load(stack: Stack, user_id: str, path: str = "/gallery") -> Visit:
        context = browser.new_context(ignore_https_errors=True)
        contexts.append(context)
        context.add_cookies(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": mint_token(JWT_SECRET, user_id),
                    "url": stack.api.url,
                    "httpOnly": True,
                }
            ]
        )
        page = context.new_page()
        requests: list[Any] = []
        responses: list[Any] = []
        page.on("request", lambda r: requests.append(r))  # noqa: PLW0108 - not a builtin
        page.on("response", lambda r: responses.append(r))  # noqa: PLW0108
        page.goto(stack.api.url + path)
        # Settled: every image loaded (as itself, its fallback or the placeholder) or gave
        # way to the message.
        page.wait_for_function(
            """() => [...document.querySelectorAll('img[data-image]')]
                .every(i => i.dataset.loaded || i.dataset.state === 'message')""",
            timeout=15_000,
        )
        return Visit(page, requests, responses)

    yield load
    for context in contexts:
        context.close()
