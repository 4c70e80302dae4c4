"""Every database call off the event loop and inside one deadline.

A database that hangs (a stopped PostgreSQL, a disk that stalls) accepts the query and
never answers: lock, connect and pool timeouts do not fire, and neither does a server-side
`statement_timeout`. So each call waits at most `seconds` on the client side, then the
request gets 503 `database_unavailable`. Calls run on an executor no larger than the
connection pool, so a hung database holds at most that many threads.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseTimeout(Exception):
    """A database call did not answer within its deadline."""


class DatabaseDeadline:
    def __init__(self, seconds: float, workers: int) -> None:
        self.seconds = seconds
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="database")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
        try:
            return await asyncio.wait_for(future, self.seconds)
        except TimeoutError:
            raise DatabaseTimeout from None

    def close(self) -> None:
        """Stop taking calls; a call stuck in a hung database is left to finish by itself."""
        self._executor.shutdown(wait=False, cancel_futures=True)
