"""The DynamoDB rollout table as the deploy/ templates create it, in moto's server."""

from __future__ import annotations

import uuid

from wishlist_dev.localaws import LocalAws


def create_rollout_table(local_aws: LocalAws) -> str:
    """Partition key `id` (S), on-demand; a fresh name per call so tests never share one."""
    name = f"rollout-{uuid.uuid4().hex[:12]}"
    local_aws.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name
