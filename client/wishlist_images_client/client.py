"""Blocking client, for scripts, CLIs and threaded services: the asyncio client's calls
(`ResolverCalls`) over a blocking gRPC channel. Each method is the coroutine of the same
name run to its end in one step, with no event loop: every RPC it awaits has already
returned (see `rpc.Channel`), so nothing is written twice and no thread is involved."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import grpc

from wishlist_images_client.aio import ResolverCalls
from wishlist_images_client.rpc import Channel

P = ParamSpec("P")
T = TypeVar("T")


def _blocking(
    method: Callable[Concatenate[ResolverCalls, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[ImageResolverClient, P], T]:
    """`method` of ResolverCalls as a blocking method of ImageResolverClient (same
    parameters, same result)."""

    def call(self: ImageResolverClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        coroutine = method(self._calls, *args, **kwargs)
        try:
            coroutine.send(None)
        except StopIteration as done:
            return cast(T, done.value)
        coroutine.close()
        raise RuntimeError(f"{method.__name__} suspended on something other than a blocking RPC")

    functools.update_wrapper(call, method)
    call.__qualname__ = f"ImageResolverClient.{method.__name__}"
    return call


class ImageResolverClient:
    """`timeout` is each call's deadline in seconds; retries on UNAVAILABLE happen within it."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 1.0,
        max_attempts: int = 4,
        admin_token: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        load_balancing: str = "round_robin",
    ) -> None:
        channel = Channel(
            target, credentials, max_attempts, blocking=True, load_balancing=load_balancing
        )
        self._calls = ResolverCalls(channel, timeout=timeout, admin_token=admin_token)

    resolve = _blocking(ResolverCalls.resolve)
    batch_resolve = _blocking(ResolverCalls.batch_resolve)
    batch_resolve_urls = _blocking(ResolverCalls.batch_resolve_urls)
    create_upload_url = _blocking(ResolverCalls.create_upload_url)
    verify_upload = _blocking(ResolverCalls.verify_upload)
    upload_policy = _blocking(ResolverCalls.upload_policy)
    invalidate = _blocking(ResolverCalls.invalidate)
    get_rollout = _blocking(ResolverCalls.get_rollout)
    set_rollout = _blocking(ResolverCalls.set_rollout)
    close = _blocking(ResolverCalls.close)

    @property
    def timeout(self) -> float:
        return self._calls.timeout

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self._calls.timeout = seconds

    @property
    def max_batch(self) -> int:
        """Refs per RPC: the resolver's published max_batch once it has refused a larger one."""
        return self._calls.max_batch

    @max_batch.setter
    def max_batch(self, refs: int) -> None:
        self._calls.max_batch = refs

    def __enter__(self) -> ImageResolverClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
