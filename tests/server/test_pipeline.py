"""The one RPC pipeline (grpc_api/pipeline.py) and the one owner of each value rule.

Admin calls are declared once, by `option (wishlist.images.v1.admin)` in the proto; these
tests walk every method of every service in the generated descriptors (no list of names
here) against a live resolver, so a method added without the option, or an option the
server does not enforce, fails."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from prometheus_client import REGISTRY

import wishlist.images.v1
from image_resolver.grpc_api.pipeline import ADMIN_METHODS
from tests.conftest import ADMIN_TOKEN, CALL_TIMEOUT
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist_images_client import ImageResolverClient
from wishlist_images_client.calls import ResolverCallError
from wishlist_runtime import admin, logsetup, values

ROOT = Path(__file__).resolve().parents[2]
KEY = "uploads/wishlist/user-123/abc123.jpg"


def contract_services() -> Iterator[ServiceDescriptor]:
    """Every service of every generated module of the contract package."""
    for info in pkgutil.iter_modules(wishlist.images.v1.__path__):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(f"wishlist.images.v1.{info.name}")
            yield from module.DESCRIPTOR.services_by_name.values()


def contract_methods() -> list[MethodDescriptor]:
    return [m for s in contract_services() for m in s.methods]


def raw_call(target: str, method: MethodDescriptor, token: str | None) -> grpc.StatusCode:
    """The method called with an empty request (all defaults), with or without the token."""
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            f"/{method.containing_service.full_name}/{method.name}",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        try:
            call(b"", timeout=10, metadata=metadata)
        except grpc.RpcError as err:
            return err.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def test_admin_table_is_what_the_proto_declares() -> None:
    methods = contract_methods()
    declared = {m.full_name for m in methods if admin.is_admin(m)}
    assert declared == ADMIN_METHODS  # and vice versa: nothing in the table but these
    assert {m.full_name for m in methods} >= ADMIN_METHODS
    assert declared, "no admin method at all: the option is not being read"
    assert {s.full_name for s in admin.SERVICES} == {s.full_name for s in contract_services()}


def test_every_method_needs_the_token_exactly_when_the_proto_says_so(start_resolver) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id="E1")
    for method in contract_methods():
        without = raw_call(server.target, method, None)
        wrong = raw_call(server.target, method, "wrong-token-wrong-token-wrong-token")
        with_token = raw_call(server.target, method, ADMIN_TOKEN)
        if method.full_name in ADMIN_METHODS:
            assert without == wrong == grpc.StatusCode.UNAUTHENTICATED, method.full_name
        else:  # a non-admin method does not need (nor look at) the token
            assert without == wrong == with_token, method.full_name
        assert without != grpc.StatusCode.UNIMPLEMENTED, method.full_name
        assert with_token not in (
            grpc.StatusCode.UNAUTHENTICATED,
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.UNIMPLEMENTED,
        ), method.full_name


def test_without_a_configured_token_admin_calls_are_refused(start_resolver) -> None:
    server = start_resolver(cloudfront_distribution_id="E1")
    invalidate = pb.DESCRIPTOR.services_by_name["ImageUrlService"].methods_by_name[
        "InvalidateImages"
    ]
    assert raw_call(server.target, invalidate, ADMIN_TOKEN) == grpc.StatusCode.UNAUTHENTICATED


def _count(method: str, code: str) -> float:
    labels = {"method": method, "code": code}
    return REGISTRY.get_sample_value("image_resolver_rpcs_total", labels) or 0.0


def _total(method: str) -> float:
    return sum(
        s.value
        for family in REGISTRY.collect()
        if family.name == "image_resolver_rpcs"
        for s in family.samples
        if s.name == "image_resolver_rpcs_total" and s.labels["method"] == method
    )


def _latency_count(method: str) -> float:
    labels = {"method": method}
    return REGISTRY.get_sample_value("image_resolver_rpc_seconds_count", labels) or 0.0


def test_each_outcome_is_counted_once(start_resolver) -> None:
    """OK, a refused admin call, a domain error: one count and one latency sample each."""
    server = start_resolver(admin_token=ADMIN_TOKEN)
    before = (_total("SetRollout"), _latency_count("SetRollout"), _count("SetRollout", "OK"))
    unauthenticated = _count("SetRollout", "UNAUTHENTICATED")
    invalid = _count("SetRollout", "INVALID_ARGUMENT")
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        client.set_rollout(percent=5, cdn_enabled=True, expected_revision=0, updated_by="t")
        with pytest.raises(ResolverCallError):
            client.set_rollout(percent=101, cdn_enabled=True, expected_revision=1, updated_by="t")
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as anonymous:
        with pytest.raises(ResolverCallError):
            anonymous.set_rollout(percent=5, cdn_enabled=True, expected_revision=1, updated_by="t")
    after = (_total("SetRollout"), _latency_count("SetRollout"), _count("SetRollout", "OK"))
    assert after[0] - before[0] == 3
    assert after[1] - before[1] == 3
    assert after[2] - before[2] == 1
    assert _count("SetRollout", "UNAUTHENTICATED") - unauthenticated == 1
    assert _count("SetRollout", "INVALID_ARGUMENT") - invalid == 1


class _RequestIds(logging.Handler):
    """The request id in force when the pipeline logs (read at emit time, as JSON logs do)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "request refused":
            self.seen.append(logsetup.request_id.get())


@pytest.fixture
def request_ids() -> Iterator[_RequestIds]:
    handler = _RequestIds()
    logger = logging.getLogger("image_resolver.grpc_api.pipeline")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler
    logger.setLevel(level)
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("req-1.a:b_c", True),
        ("x" * values.MAX_REQUEST_ID_CHARS, True),
        ("x" * (values.MAX_REQUEST_ID_CHARS + 1), False),  # was cut to 64 before
        ("has space", False),  # printable, kept before
        ("a,b", False),
    ],
)
def test_server_keeps_request_ids_by_the_apis_rule(
    start_resolver, request_ids: _RequestIds, sent: str, kept: bool
) -> None:
    server = start_resolver()
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.ImageUrlServiceStub(channel)
        request = pb.ResolveImageUrlRequest(image=pb.ImageRef(ref="../x"))
        with pytest.raises(grpc.RpcError) as caught:
            stub.ResolveImageUrl(request, timeout=5, metadata=(("x-request-id", sent),))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # a bad id is not fatal
    [seen] = request_ids.seen
    if kept:
        assert seen == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", seen)


def test_resolve_and_upload_share_one_user_id_limit(start_resolver) -> None:
    server = start_resolver()
    longest = "u" * values.MAX_USER_ID_CHARS
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        policy = client.upload_policy()
        assert policy.max_user_id_chars == policy.max_upload_user_id_chars
        assert policy.max_user_id_chars == values.MAX_USER_ID_CHARS
        assert client.resolve(KEY, user_id=longest).url
        form = client.create_upload_url(longest, "image/png", 10)
        assert client.resolve(form.key).url  # the longest upload key resolves
        for call in (
            lambda: client.resolve(KEY, user_id=longest + "u"),
            lambda: client.create_upload_url(longest + "u", "image/png", 10),
        ):
            with pytest.raises(ResolverCallError) as caught:
                call()
            assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
            assert caught.value.field == "user_id"


def test_set_rollout_uses_the_contracts_percent_and_author(start_resolver) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        longest = "a" * values.MAX_AUTHOR_CHARS
        _, after = client.set_rollout(
            percent=values.MAX_PERCENT, cdn_enabled=True, expected_revision=0, updated_by=longest
        )
        assert (after.percent, after.updated_by) == (100, longest)
        for percent, who, field in ((101, "t", "percent"), (5, longest + "a", "updated_by")):
            with pytest.raises(ResolverCallError) as caught:
                client.set_rollout(
                    percent=percent, cdn_enabled=True, expected_revision=1, updated_by=who
                )
            assert caught.value.field == field


# Names of rule constants and patterns that once had several owners (issue #20).
_RULE_NAMES = re.compile(
    r"^\s*(MAX_USER_ID_CHARS|MAX_UPDATED_BY|MAX_AUTHOR\w*|MAX_REQUEST_ID\w*|_REQUEST_ID"
    r"|MAX_KEY_BYTES|MAX_KEY_PREFIX\w*|_USER_ID)\s*(:[^=]*)?=",
    re.MULTILINE,
)


def test_each_rule_constant_is_defined_once_in_the_contract() -> None:
    owner = ROOT / "client" / "wishlist_runtime" / "values.py"
    found: dict[str, list[str]] = {}
    for package in ("server", "client", "api", "ops", "dev"):
        for path in (ROOT / package).rglob("*.py"):
            if ".venv" in path.parts or "_pb2" in path.name:
                continue
            for match in _RULE_NAMES.finditer(path.read_text()):
                found.setdefault(match[1], []).append(str(path.relative_to(ROOT)))
    owner_name = str(owner.relative_to(ROOT))
    assert {name: paths for name, paths in found.items() if paths != [owner_name]} == {}
    assert {"MAX_USER_ID_CHARS", "MAX_AUTHOR_CHARS", "_REQUEST_ID", "MAX_KEY_BYTES"} <= set(found)
