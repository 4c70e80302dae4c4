"""Shutdown drain: refuse calls that start after SIGTERM, so the core's queue runs dry.

grpc.aio asks the core for one call at a time, so under load calls wait unmatched in
the core; `server.stop()` cancels those at once (the client sees CANCELLED, which it
does not retry). So the server first refuses new calls with UNAVAILABLE (clients retry
those elsewhere) until no call has arrived for a short quiet period; only then is the
core shut down, with an empty queue. Calls already in a handler run to completion.
"""

from __future__ import annotations

import asyncio
import time

QUIET_SECONDS = 0.1
MAX_REFUSING_SECONDS = 2.0


class Gate:
    """Open while serving; closed once the drain starts. Used on the event loop only."""

    def __init__(self) -> None:
        self.closed = False
        self.in_flight = 0
        self.last_arrival = time.monotonic()

    def arrived(self) -> bool:
        """Note a call's arrival; False when it must be refused (shutting down)."""
        self.last_arrival = time.monotonic()
        return not self.closed

    async def drain(self, budget: float) -> None:
        """Close, then wait until no call arrived for QUIET_SECONDS (at most `budget` s)."""
        self.closed = True
        start = time.monotonic()
        self.last_arrival = max(self.last_arrival, start)
        limit = start + min(budget, MAX_REFUSING_SECONDS)
        while True:
            now = time.monotonic()
            quiet_until = self.last_arrival + QUIET_SECONDS
            if now >= limit or (now >= quiet_until and self.in_flight == 0):
                return
            await asyncio.sleep(min(quiet_until, limit) - now + 0.005)
