"""moto's S3/SSM/CloudFront/DynamoDB HTTP server on loopback, for the local demo and the tests.

DynamoDB applies a conditional write atomically per item; moto's threaded server checks the
condition and writes without a lock, so two concurrent conditional PutItems can both pass
(seen here: 1 round in 100). DynamoDB requests are therefore served one at a time, which
gives moto the atomicity the rollout store relies on; other services stay concurrent.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

DEMO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class LocalAws:
    """Starts moto's real HTTP server on 127.0.0.1 (a free port) and creates the bucket."""

    def __init__(
        self, bucket: str = "lego-moc-wishlist-uploads", region: str = "us-east-1"
    ) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise SystemExit(
                "the local demo needs moto: pip install 'wishlist-image-cdn[demo]'"
            ) from exc
        self.bucket = bucket
        self.region = region
        self._server = _server_with_atomic_dynamodb(ThreadedMotoServer)
        self.endpoint = ""

    def start(self, set_env: bool = True) -> LocalAws:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        if set_env:
            for name, value in DEMO_CREDENTIALS.items():
                os.environ.setdefault(name, value)
        self.session().client("s3", endpoint_url=self.endpoint).create_bucket(Bucket=self.bucket)
        return self

    def session(self) -> Any:
        import boto3

        return boto3.Session(
            aws_access_key_id=DEMO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DEMO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        return self.session().client(service, endpoint_url=self.endpoint)

    def create_distribution(self) -> tuple[str, str]:
        """A CloudFront distribution in moto; returns (id, domain)."""
        origin = f"{self.bucket}.s3.{self.region}.amazonaws.com"
        dist = self.client("cloudfront").create_distribution(
            DistributionConfig={
                "CallerReference": f"local-{uuid.uuid4().hex}",
                "Comment": "wishlist images (local)",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "s3",
                            "DomainName": origin,
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "s3",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                },
            }
        )["Distribution"]
        return dist["Id"], dist["DomainName"]

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


Wsgi = Callable[[dict[str, Any], Any], Iterable[bytes]]


def serialise_dynamodb(app: Wsgi) -> Wsgi:
    """A WSGI app that answers DynamoDB calls (X-Amz-Target DynamoDB_*) one at a time."""
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return serve


def _server_with_atomic_dynamodb(base: type[Any]) -> Any:
    """moto's ThreadedMotoServer on 127.0.0.1:0 with `serialise_dynamodb` around its app."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class Server(base):  # type: ignore[misc]
        def _server_entry(self) -> None:
            app = serialise_dynamodb(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(
                "127.0.0.1", 0, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server(ip_address="127.0.0.1", port=0, verbose=False)
