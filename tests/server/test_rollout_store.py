"""Store URLs and the stored document's range checks (the edges; integration tests cover
what a server does with garbage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from image_resolver.rollout.decision import MAX_REVISION
from image_resolver.rollout.store import (
    CorruptStore,
    DynamoDbStore,
    FileStore,
    SsmStore,
    decode,
    open_store,
)
from wishlist_runtime.values import MAX_AUTHOR_CHARS


def doc(**fields: object) -> str:
    return json.dumps({"percent": 10, "cdn_enabled": True, "revision": 1, **fields})


def test_revision_must_fit_int64_with_room_for_one_more_write() -> None:
    assert decode(doc(revision=MAX_REVISION - 1)).revision == MAX_REVISION - 1
    for revision in (MAX_REVISION, 2**63, 2**70, -1):
        with pytest.raises(CorruptStore, match="not a valid flag document"):
            decode(doc(revision=revision))


def test_percent_and_types_are_checked() -> None:
    assert decode(doc(percent=0)).percent == 0
    assert decode(doc(percent=100)).percent == 100
    for bad in ({"percent": 101}, {"percent": True}, {"cdn_enabled": 1}, {"extra": 1}):
        with pytest.raises(CorruptStore):
            decode(doc(**bad))
    with pytest.raises(CorruptStore, match="too large"):
        decode(doc(updated_by="x" * 20_000))
    with pytest.raises(CorruptStore):
        decode(b"\xff\xfe{}")


def test_stored_author_follows_the_contracts_author_rule() -> None:
    longest = "a" * MAX_AUTHOR_CHARS
    assert decode(doc(updated_by=longest)).updated_by == longest
    assert decode(doc(updated_by="")).updated_by == ""  # the start value names nobody
    for bad in (longest + "a", "   ", "on\ncall"):
        with pytest.raises(CorruptStore, match="not a valid flag document"):
            decode(doc(updated_by=bad))


def test_updated_at_needs_an_offset_and_is_kept_in_utc() -> None:
    at = decode(doc(updated_at="2026-11-25T11:00:00+01:00")).updated_at
    assert at is not None and at.isoformat() == "2026-11-25T10:00:00+00:00"
    for bad in ("2026-11-25T10:00:00", "0001-01-01T00:00:00+01:00", "soon"):
        with pytest.raises(CorruptStore):
            decode(doc(updated_at=bad))


def test_store_urls() -> None:
    clients: list[str] = []

    def factory(service: str) -> str:
        clients.append(service)
        return service

    dynamo = open_store("dynamodb://rollout-table/image-cdn", factory)
    assert isinstance(dynamo, DynamoDbStore)
    assert (dynamo.table, dynamo.key, dynamo.describe()) == (
        "rollout-table",
        "image-cdn",
        "dynamodb://rollout-table/image-cdn",
    )
    ssm = open_store("ssm:///wishlist/image-cdn/rollout", factory)
    assert isinstance(ssm, SsmStore) and ssm.name == "/wishlist/image-cdn/rollout"
    file = open_store("file:///var/lib/r.json", factory)
    assert isinstance(file, FileStore) and file.path == Path("/var/lib/r.json")
    assert clients == ["dynamodb", "ssm"]
    bad = ("dynamodb://", "dynamodb://t/", "dynamodb:///k", "dynamodb://a b/k", "dynamodb://tt")
    for url in (*bad, f"dynamodb://table/{'k' * 1025}", "dynamodb://table/k?x=1", "s3://b/k"):
        with pytest.raises(ValueError, match="dynamodb://TABLE/KEY"):
            open_store(url, factory)


def test_the_deployed_store_url_opens_the_item_the_iam_grant_allows() -> None:
    """deploy/kubernetes/image-resolver/configmap.yaml names the table item the pods' grant
    is limited to (`dynamodb:LeadingKeys` = "rollout"); the service must read that URL the
    same way."""
    import yaml

    k8s = Path(__file__).parents[2] / "deploy" / "kubernetes"
    configmap = k8s / "image-resolver" / "configmap.yaml"
    url = yaml.safe_load(configmap.read_text())["data"]["ROLLOUT_STORE"]
    store = open_store(url, lambda service: service)
    assert isinstance(store, DynamoDbStore)
    assert (store.table, store.key) == ("wishlist-image-cdn-rollout", "rollout")
