"""Shared fixtures: a frozen botocore clock and a real moto S3 server on loopback."""

from __future__ import annotations

import datetime as _dt
import os
import types
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from unittest import mock

import boto3
import botocore.auth
import botocore.compat
import botocore.signers
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer
from mypy_boto3_s3 import S3Client


@contextmanager
def frozen_botocore_clock(epoch: int) -> Iterator[None]:
    """Make botocore's signers read `epoch` as "now".

    botocore 1.35 calls `datetime.datetime.utcnow()` through the `datetime` module
    imported by `botocore.auth` (SigV4QueryAuth, S3SigV4PostAuth) and
    `botocore.signers` (the POST policy expiration). We swap that module reference for
    a copy whose `datetime` class returns the frozen instant. Newer botocore releases
    route through `get_current_datetime()`; patch that too wherever it exists, so this
    keeps working after an upgrade (the equivalence tests fail loudly if it does not).
    """
    naive = _dt.datetime.fromtimestamp(epoch, _dt.UTC).replace(tzinfo=None)

    class _FrozenDatetime(_dt.datetime):
        @classmethod
        def utcnow(cls) -> _dt.datetime:  # type: ignore[override]
            return naive

        @classmethod
        def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
            return naive if tz is None else naive.replace(tzinfo=_dt.UTC).astimezone(tz)

    fake = types.SimpleNamespace(**{**vars(_dt), "datetime": _FrozenDatetime})
    with ExitStack() as stack:
        for module in (botocore.auth, botocore.signers):
            if isinstance(getattr(module, "datetime", None), types.ModuleType):
                stack.enter_context(mock.patch.object(module, "datetime", fake))
        for module in (botocore.auth, botocore.signers, botocore.compat):
            if hasattr(module, "get_current_datetime"):
                stack.enter_context(
                    mock.patch.object(
                        module,
                        "get_current_datetime",
                        lambda remove_tzinfo=True: (
                            naive if remove_tzinfo else naive.replace(tzinfo=_dt.UTC)
                        ),
                    )
                )
        yield


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 HTTP server on an ephemeral loopback port, with dummy credentials."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    patcher = mock.patch.dict("os.environ", env)
    patcher.start()
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        os.environ.pop(name, None)  # restored by patcher.stop()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        patcher.stop()


@pytest.fixture(scope="session")
def moto_s3(moto_endpoint: str) -> S3Client:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
