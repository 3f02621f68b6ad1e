"""The re-encryption job's transactional write mode (``WriteMode.TRANSACT``).

Same guarantees as single conditional puts: no concurrent write is lost (the application
writes an item of a batch between the job's read and its transaction), deletions are not
undone, throttled transactions are resent (same client token), checkpoints resume, and a
second run has nothing to do. Faults come from botocore hooks on the job's client.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_reencrypt import (
    Answer,
    assert_all_readable,
    encryptor,
    inject,
    job,
    key_of,
    plaintext_item,
    seed_table,
    static_provider,
)

from pynamodb_encryption.maintenance import (
    ReencryptOptions,
    ReencryptProgress,
    WriteMode,
    reencrypt_table,
)

__all__ = ["inject"]  # a fixture, imported to be used here


@pytest.fixture
def range_table(make_table: Callable[..., str]) -> str:
    return make_table(range_key=True)


class Counter:
    """A ``before-call`` hook counting requests per operation."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, model: Any, **kwargs: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1


def entry_key(action: dict[str, Any]) -> tuple[str, str]:
    """The key of one TransactWriteItems entry (the job sends Update entries, or Put ones
    past DynamoDB's expression limit)."""
    return key_of(action["Put"]["Item"] if "Put" in action else action["Update"]["Key"])


def transact(**extra: Any) -> ReencryptOptions:
    return ReencryptOptions(write_mode=WriteMode.TRANSACT, **extra)


def test_transactions_rewrite_every_item_with_few_requests_and_are_idempotent(
    dynamodb_client: Any, range_table: str, inject: Callable[[str, Any], None]
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=120)
    counter = Counter()
    inject("before-call.dynamodb", counter)

    report = reencrypt_table(
        dynamodb_client, job(range_table, old, new), transact(page_size=60, transaction_size=25)
    )

    assert report.ok
    assert (report.scanned, report.reencrypted, report.conflicts_retried) == (120, 120, 0)
    # 60 items per page in batches of 25: 3 transactions per page, no single writes.
    assert counter.calls.get("TransactWriteItems") == 6
    assert "PutItem" not in counter.calls
    assert "UpdateItem" not in counter.calls
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)

    again = reencrypt_table(dynamodb_client, job(range_table, old, new), transact())
    assert (again.reencrypted, again.already_current) == (0, 120)


@pytest.mark.parametrize("app_uses", ["old", "new", "delete"])
def test_concurrent_write_into_a_batch_is_never_lost(
    dynamodb_client: Any,
    ddb_endpoint: str,
    range_table: str,
    inject: Callable[[str, Any], None],
    app_uses: str,
) -> None:
    import boto3

    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=30)
    app_client = boto3.client("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
    target = ("p3", "3")
    changed = plaintext_item(3)
    changed["secret"] = {"S": "written by the application during the job"}
    slipped: list[int] = []

    def slip_in(params: dict[str, Any], **kwargs: Any) -> None:
        if slipped:
            return
        keys = [entry_key(action) for action in params["TransactItems"]]
        if target not in keys:
            return
        slipped.append(len(keys))
        # The application writes between the job's scan and its transaction.
        key = {"pk": {"S": target[0]}, "sk": {"N": target[1]}}
        if app_uses == "delete":
            app_client.delete_item(TableName=range_table, Key=key)
        else:
            writer = encryptor(range_table, old if app_uses == "old" else new)
            app_client.put_item(TableName=range_table, Item=writer.encrypt(changed))

    inject("before-parameter-build.dynamodb.TransactWriteItems", slip_in)

    report = reencrypt_table(
        dynamodb_client, job(range_table, old, new), transact(transaction_size=10)
    )

    assert slipped == [10]
    assert report.ok
    assert report.conflicts_retried == 1
    if app_uses == "delete":
        del expected[target]
        assert (report.reencrypted, report.skipped) == (29, 1)
    else:
        expected[target] = changed
        current = 1 if app_uses == "new" else 0
        assert (report.reencrypted, report.already_current) == (30 - current, current)
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_throttled_transaction_is_resent_and_applied_once(
    dynamodb_client: Any, range_table: str, inject: Callable[[str, Any], None]
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=20)
    tokens: list[str] = []

    def throttle_first(operation: str, body: dict[str, Any]) -> tuple[int, str] | None:
        if operation != "TransactWriteItems":
            return None
        tokens.append(body["ClientRequestToken"])
        return (400, "ThrottlingException") if len(tokens) == 1 else None

    hook = Answer(throttle_first)
    inject("before-send.dynamodb.TransactWriteItems", hook)
    report = reencrypt_table(
        dynamodb_client, job(range_table, old, new), transact(backoff_seconds=0.001)
    )

    assert hook.answered == 1
    assert tokens[0] == tokens[1]  # the same request, which DynamoDB applies at most once
    assert report.ok
    assert report.reencrypted == 20
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_refused_batch_falls_back_to_single_writes(
    dynamodb_client: Any, range_table: str, inject: Callable[[str, Any], None]
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=12)

    def refuse(operation: str, body: dict[str, Any]) -> tuple[int, str] | None:
        return (400, "ValidationException") if operation == "TransactWriteItems" else None

    inject("before-send.dynamodb.TransactWriteItems", Answer(refuse))
    report = reencrypt_table(dynamodb_client, job(range_table, old, new), transact())

    assert report.ok
    assert report.reencrypted == 12
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_interrupted_transactional_job_resumes_from_its_checkpoint(
    dynamodb_client: Any, range_table: str, tmp_path: Path
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=60)
    checkpoint = tmp_path / "job.checkpoint"
    pages: list[int] = []

    def interrupt(progress: ReencryptProgress) -> None:
        pages.append(progress.scanned)
        if len(pages) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reencrypt_table(
            dynamodb_client,
            job(range_table, old, new),
            transact(page_size=10, checkpoint_path=checkpoint, progress=interrupt),
        )
    assert json.loads(checkpoint.read_text())["segments"][0]["pages"] == 2

    resumed = reencrypt_table(
        dynamodb_client,
        job(range_table, old, new),
        transact(page_size=10, checkpoint_path=checkpoint),
    )
    assert resumed.resumed
    assert resumed.ok
    assert resumed.scanned == 40
    assert resumed.reencrypted == 40
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_bad_transaction_size_is_a_configuration_error(
    dynamodb_client: Any, range_table: str
) -> None:
    from pynamodb_encryption import ConfigurationError

    old, new = static_provider(), static_provider()
    for size in (0, 101):
        with pytest.raises(ConfigurationError):
            reencrypt_table(
                dynamodb_client, job(range_table, old, new), transact(transaction_size=size)
            )
