"""Run a resolver inside another process on a background event loop.

For the local demo, the tests and the benchmarks: the real server on a real port,
started and stopped from synchronous code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from image_resolver.config import Settings
from image_resolver.invalidation import Purger
from image_resolver.server import Components, RunningServer, build_components, start


class EmbeddedResolver:
    """`with EmbeddedResolver(settings) as r: r.target` -> "127.0.0.1:PORT".

    `purgers`: told each invalidation CloudFront accepted (`image_resolver.invalidation.
    Purger`), e.g. `[edge.purger()]` so the local edge drops what CloudFront would.
    """

    def __init__(
        self,
        settings: Settings,
        session: Any = None,
        components: Components | None = None,
        extra_handlers: Sequence[Any] = (),
        purgers: Sequence[Purger] = (),
        *,
        host: str = "127.0.0.1",
    ) -> None:
        if components is not None and purgers:
            raise ValueError("purgers are wired by build_components: pass one or the other")
        self.settings = settings
        self.host = host  # any loopback address: replicas on 127.0.0.2, .3 share a port
        self.extra_handlers = extra_handlers
        self.components = components or build_components(settings, session, purgers)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._running: RunningServer | None = None

    @property
    def port(self) -> int:
        assert self._running is not None, "start() first"
        return self._running.port

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> EmbeddedResolver:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            start(self.components, self.host, self.settings.grpc_port, self.extra_handlers),
            self._loop,
        )
        self._running = future.result(timeout=10)
        return self

    def begin_stop(self, grace: float) -> Future[None]:
        """Start a graceful stop and return at once (tests watch in-flight calls finish)."""
        assert self._running is not None
        return asyncio.run_coroutine_threadsafe(self._running.stop(grace), self._loop)

    def stop(self, grace: float = 0.5) -> None:
        if self._running is None:
            return
        self.begin_stop(grace).result(timeout=grace + 10)
        self._running = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> EmbeddedResolver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
