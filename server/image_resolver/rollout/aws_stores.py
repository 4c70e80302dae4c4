"""The flag in AWS, shared by every replica: a DynamoDB item (the production store) or an
SSM parameter (read-only here).

DynamoDB gives a true compare-and-set: PutItem with a condition on the stored revision, so
of two writers that expected the same revision exactly one succeeds, and a write that
returned OK is the one stored. SSM has no conditional write: PutParameter can only detect
afterwards that someone else wrote too, by which time the other write has been told OK and
been overwritten (measured: most OK writes lost under two concurrent writers). The service
therefore never writes SSM; an operator changes the parameter directly (one writer).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from image_resolver.rollout.base import (
    CorruptStore,
    ReadOnlyStore,
    RevisionConflict,
    Snapshot,
    StoreError,
    WriteOutcomeUnknown,
    decode,
    encode,
)
from image_resolver.rollout.decision import RolloutState

AWS_ERRORS = (ClientError, BotoCoreError)
CONDITION_FAILED = "ConditionalCheckFailedException"
STORE_ATTEMPTS = 2  # one retry (botocore "standard" mode): a blip costs no poll


def store_client_config(timeout: float) -> Any:
    """botocore settings for a store client: every call bounded. botocore's defaults are
    60 s connect and 60 s read with retries, so one call to a hung DynamoDB blocked for
    minutes. Here a call gives up after about STORE_ATTEMPTS x (timeout + backoff)."""
    from botocore.config import Config

    return Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": STORE_ATTEMPTS, "mode": "standard"},
    )


def aws_error(exc: Exception) -> str:
    """The AWS error code (e.g. ResourceNotFoundException), never the message or an ARN."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


class SsmStore:
    """An SSM String parameter; every replica polls it. Writes are refused (see module)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def describe(self) -> str:
        return f"ssm://{self.name}"

    def change_token(self) -> object:
        return None  # a read is as cheap as any change check on SSM

    def read(self) -> Snapshot:
        try:
            param = self.client.get_parameter(Name=self.name)["Parameter"]
        except self.client.exceptions.ParameterNotFound:
            return Snapshot(None, None)
        except AWS_ERRORS as exc:
            raise StoreError(f"cannot read SSM parameter {self.name}: {aws_error(exc)}") from None
        return Snapshot(decode(param["Value"]), param["Version"])

    def compare_and_set(self, expected_revision: int, new: RolloutState) -> RolloutState:
        raise ReadOnlyStore(
            "the SSM rollout store is read-only: SSM has no conditional write, so of two "
            "writers both could be told OK and one lost. Change the parameter with "
            "`aws ssm put-parameter --overwrite` (one writer at a time), or move the flag "
            "to ROLLOUT_STORE=dynamodb://TABLE/KEY"
        )


class DynamoDbStore:
    """One item in a DynamoDB table: `id` (S, the key), `revision` (N), `document` (S, the
    JSON document). Every write is a PutItem conditional on what the writer expects."""

    def __init__(self, client: Any, table: str, key: str) -> None:
        self.client = client
        self.table = table
        self.key = key

    def describe(self) -> str:
        return f"dynamodb://{self.table}/{self.key}"

    def change_token(self) -> object:
        return None  # one consistent GetItem is the change check

    def read(self) -> Snapshot:
        try:
            item = self.client.get_item(
                TableName=self.table, Key={"id": {"S": self.key}}, ConsistentRead=True
            ).get("Item")
        except AWS_ERRORS as exc:
            raise StoreError(f"cannot read DynamoDB {self.describe()}: {aws_error(exc)}") from None
        return Snapshot(_state(item) if item else None, None)

    def compare_and_set(self, expected_revision: int, new: RolloutState) -> RolloutState:
        """Replace the item if it holds `expected_revision` or does not exist; else, if what
        is stored is garbage, replace exactly that garbage; else RevisionConflict."""
        old = self._put(
            new,
            "attribute_not_exists(#id) OR #revision = :expected",
            {":expected": {"N": str(expected_revision)}},
        )
        if old is None:
            return new
        try:
            current = _state(old)
        except CorruptStore:
            current = None
        if current is not None:
            raise RevisionConflict(
                current,
                f"rollout changed meanwhile: revision is {current.revision}, "
                f"expected {expected_revision}",
            )
        condition, values = _unchanged(old)
        if self._put(new, condition, values) is not None:
            raise RevisionConflict(None, "rollout changed meanwhile; read it again")
        return new

    def _put(
        self, new: RolloutState, condition: str, values: dict[str, Any]
    ) -> dict[str, Any] | None:
        """PutItem under `condition`; None when written, else the item that failed it."""
        names = {"#id": "id", "#revision": "revision", "#document": "document"}
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "id": {"S": self.key},
                    "revision": {"N": str(new.revision)},
                    "document": {"S": encode(new)},
                },
                ConditionExpression=condition,
                ExpressionAttributeNames={n: v for n, v in names.items() if n in condition},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as exc:
            if aws_error(exc) != CONDITION_FAILED:
                retried = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
                if retried:  # an earlier attempt went unanswered: it may have landed
                    raise WriteOutcomeUnknown(self._unknown(exc)) from None
                raise StoreError(
                    f"cannot write DynamoDB {self.describe()}: {aws_error(exc)}"
                ) from None
            old: dict[str, Any] = dict(exc.response.get("Item") or {})  # type: ignore[call-overload]
            if old and old.get("document") == {"S": encode(new)}:
                return None  # our own write, landed by an attempt whose answer was lost
            return old or {"id": {"S": self.key}}
        except BotoCoreError as exc:
            # Sent (or maybe sent) and not answered: a timeout, a reset connection.
            raise WriteOutcomeUnknown(self._unknown(exc)) from None
        return None

    def _unknown(self, exc: Exception) -> str:
        return (
            f"write to DynamoDB {self.describe()} not answered ({aws_error(exc)}): "
            "it may have landed, or may land when the store answers"
        )


def _state(item: dict[str, Any]) -> RolloutState:
    """The state an item holds; CorruptStore unless `revision` (N) and `document` agree."""
    doc = item.get("document", {}).get("S")
    if not isinstance(doc, str):
        raise CorruptStore("stored rollout is not a valid flag document: no document string")
    state = decode(doc)
    if item.get("revision") != {"N": str(state.revision)}:
        raise CorruptStore(
            "stored rollout is not a valid flag document: revision attribute does not match"
        )
    return state


def _unchanged(old: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A condition that holds only while the item still has `old`'s revision and document."""
    parts = ["attribute_exists(#id)"]
    values: dict[str, Any] = {}
    for attr in ("revision", "document"):
        if attr in old:
            parts.append(f"#{attr} = :old_{attr}")
            values[f":old_{attr}"] = old[attr]
        else:
            parts.append(f"attribute_not_exists(#{attr})")
    return " AND ".join(parts), values
