"""The edge's origin: reads the private bucket with SigV4-signed requests, like OAC.

Varnish cannot sign S3 requests, so this small loopback server sits between it and S3
(moto): GET/HEAD /{key} becomes a signed GetObject/HeadObject, streamed back with S3's
status and headers. Tests steer it through `OriginFaults` (forced status, added delay)
from Python only; nothing outside the process can change them.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

CHUNK = 64 * 1024
FORWARDED = (
    ("ContentType", "Content-Type"),
    ("ETag", "ETag"),
    ("CacheControl", "Cache-Control"),
    ("ContentEncoding", "Content-Encoding"),
)
S3_ERROR_CODES = {
    400: "InvalidRequest",
    403: "AccessDenied",
    404: "NoSuchKey",
    405: "MethodNotAllowed",
    500: "InternalError",
    502: "BadGateway",
    503: "SlowDown",
    504: "GatewayTimeout",
}


class OriginFaults:
    """Thread-safe fault knobs: a forced status and an added delay, per key or for all keys."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: dict[str | None, int] = {}
        self._delay_ms: dict[str | None, int] = {}

    def force_status(self, status: int | None, key: str | None = None) -> None:
        """Answer `status` (an S3-style error) for `key` (None: every key); None clears it."""
        if status is not None and not 400 <= status <= 599:
            raise ValueError("forced status must be 4xx or 5xx")
        with self._lock:
            if status is None:
                self._status.pop(key, None)
            else:
                self._status[key] = status

    def add_delay(self, ms: int, key: str | None = None) -> None:
        """Wait `ms` before answering `key` (None: every key); 0 clears it."""
        if not 0 <= ms <= 120_000:
            raise ValueError("delay must be 0..120000 ms")
        with self._lock:
            if ms == 0:
                self._delay_ms.pop(key, None)
            else:
                self._delay_ms[key] = ms

    def clear(self) -> None:
        with self._lock:
            self._status.clear()
            self._delay_ms.clear()

    def for_key(self, key: str) -> tuple[int | None, int]:
        with self._lock:
            status = self._status.get(key, self._status.get(None))
            delay = self._delay_ms.get(key, self._delay_ms.get(None, 0))
        return status, delay


@dataclass(frozen=True)
class OriginRequest:
    """One request the origin saw (what Varnish forwarded) and what it answered."""

    method: str
    key: str
    query: str
    status: int


class SigningOrigin:
    """ThreadingHTTPServer on 127.0.0.1 that reads `bucket` through a SigV4 S3 client."""

    def __init__(
        self,
        s3_client: Any,
        bucket: str,
        *,
        read_prefixes: tuple[str, ...] = ("",),
        lists_bucket: bool = True,
        history: int = 1000,
    ) -> None:
        self.s3 = s3_client
        self.bucket = bucket
        # the bucket policy's grants to CloudFront, from the template (see EdgeConfig)
        self.read_prefixes = read_prefixes
        self.lists_bucket = lists_bucket
        self.faults = OriginFaults()
        self._requests: deque[OriginRequest] = deque(maxlen=history)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_endpoint(
        cls,
        endpoint: str,
        bucket: str,
        region: str,
        credentials: tuple[str, str],
        *,
        read_prefixes: tuple[str, ...] = ("",),
        lists_bucket: bool = True,
    ) -> SigningOrigin:
        import boto3
        from botocore.config import Config

        client = boto3.Session(
            aws_access_key_id=credentials[0],
            aws_secret_access_key=credentials[1],
            region_name=region,
        ).client(
            "s3",
            endpoint_url=endpoint,
            config=Config(
                signature_version="s3v4",
                retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                max_pool_connections=32,
            ),
        )
        return cls(client, bucket, read_prefixes=read_prefixes, lists_bucket=lists_bucket)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("origin is not started")
        return int(self._server.server_address[1])

    def start(self) -> SigningOrigin:
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
            self._server.daemon_threads = True
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="edge-origin", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def requests(self) -> list[OriginRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, key: str) -> list[OriginRequest]:
        return [r for r in self.requests if r.key == key]

    def record(self, request: OriginRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def fetch(self, method: str, key: str) -> tuple[int, dict[str, str], Iterator[bytes]]:
        """Status, headers and body chunks for a signed GET/HEAD of `key`."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not key or not key.startswith(self.read_prefixes):
            return _s3_error(403, key)  # outside the policy's Resource: AccessDenied
        call = self.s3.get_object if method == "GET" else self.s3.head_object
        try:
            answer = call(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 502))
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "NotFound", "404"):
                status = 404 if self.lists_bucket else 403  # S3 hides misses without List
            elif code in ("AccessDenied", "403"):
                status = 403
            return _s3_error(status, key)
        except BotoCoreError:
            return _s3_error(502, key)
        headers = {"Content-Length": str(answer["ContentLength"])}
        for field, header in FORWARDED:
            if answer.get(field):
                headers[header] = str(answer[field])
        if answer.get("LastModified"):
            headers["Last-Modified"] = format_datetime(
                answer["LastModified"].astimezone(datetime.UTC), usegmt=True
            )
        body: Iterator[bytes] = iter(())
        if method == "GET":
            body = answer["Body"].iter_chunks(CHUNK)
        return 200, headers, body


def _s3_error(status: int, key: str) -> tuple[int, dict[str, str], Iterator[bytes]]:
    code = S3_ERROR_CODES.get(status, "InternalError")
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{code}</Message></Error>"
    ).encode()
    headers = {"Content-Type": "application/xml", "Content-Length": str(len(body))}
    return status, headers, iter([body])


def _handler(origin: SigningOrigin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length

        def version_string(self) -> str:
            return "AmazonS3"

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            key = unquote(url.path.lstrip("/"))
            forced, delay_ms = origin.faults.for_key(key)
            if delay_ms:
                time.sleep(delay_ms / 1000)
            if forced is not None:
                status, headers, body = _s3_error(forced, key)
            elif method in ("GET", "HEAD"):
                status, headers, body = origin.fetch(method, key)
            else:
                status, headers, body = _s3_error(405, key)
            origin.record(OriginRequest(method, key, url.query, status))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if method != "HEAD":
                for chunk in body:
                    self.wfile.write(chunk)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_OPTIONS(self) -> None:
            self._serve("OPTIONS")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # Varnish logs requests; keep test output clean

    return Handler
