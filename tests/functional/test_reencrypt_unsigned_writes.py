"""The re-encryption job never undoes an application write to an unsigned attribute
(Hardening 1, "the jobs"): a ``DO_NOTHING`` attribute that the application adds or changes
between the job's read and the job's conditional write survives the job, in both write modes
(single writes, and the entries of a ``TransactWriteItems``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_reencrypt import (
    Answer,
    encryptor,
    key_of,
    plaintext_item,
    put_all,
    static_provider,
)

from pynamodb_encryption import AttributeActions, CryptoAction
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    ReencryptJob,
    ReencryptOptions,
    UnsignedItemPolicy,
    WriteMode,
    reencrypt_table,
)


@pytest.fixture
def inject(dynamodb_client: Any) -> Iterator[Callable[[str, Answer], None]]:
    registered: list[tuple[str, Answer]] = []

    def register(event: str, hook: Answer) -> None:
        dynamodb_client.meta.events.register(event, hook)
        registered.append((event, hook))

    yield register
    for event, hook in registered:
        dynamodb_client.meta.events.unregister(event, hook)


@pytest.fixture
def range_table(make_table: Callable[..., str]) -> str:
    return make_table(range_key=True)


UNSIGNED = CryptoAction.DO_NOTHING
ACTIONS = AttributeActions(attribute_actions={"hits": UNSIGNED, "extra": UNSIGNED})

APP_WRITES: dict[str, dict[str, Any]] = {
    "add-new-attribute": {
        "UpdateExpression": "SET extra = :v",
        "ExpressionAttributeValues": {":v": {"S": "added by the app"}},
    },
    "increment": {
        "UpdateExpression": "ADD hits :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    },
}


def written_keys(operation: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """The keys of the items a job's write request writes (wire JSON)."""
    if operation in ("PutItem", "UpdateItem"):
        return [key_of(body.get("Item") or body["Key"])]
    if operation == "TransactWriteItems":
        return [
            key_of(entry["Put"]["Item"] if "Put" in entry else entry["Update"]["Key"])
            for entry in body["TransactItems"]
        ]
    return []


@pytest.mark.parametrize("mode", list(WriteMode), ids=[m.value for m in WriteMode])
@pytest.mark.parametrize("signed", [True, False], ids=["rotation", "adoption"])
@pytest.mark.parametrize("write", sorted(APP_WRITES))
def test_unsigned_write_between_read_and_write_survives(
    dynamodb_client: Any,
    inject: Callable[[str, Answer], None],
    range_table: str,
    ddb_backend: str,
    write: str,
    signed: bool,
    mode: WriteMode,
) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("one backend is enough for this interleaving")
    old, new = static_provider(), static_provider()
    items = [plaintext_item(i) for i in range(3)]
    if signed:
        put_all(
            dynamodb_client,
            range_table,
            [encryptor(range_table, old, ACTIONS).encrypt(i) for i in items],
        )
    else:
        put_all(dynamodb_client, range_table, items)
    target = key_of(items[1])
    done: list[str] = []

    def app_write(operation: str, body: dict[str, Any]) -> None:
        if done or target not in written_keys(operation, body):
            return
        done.append(operation)
        # The application writes between the job's read and the job's write (for a
        # transaction: the job's transaction that carries the item).
        dynamodb_client.update_item(
            TableName=range_table,
            Key={"pk": {"S": target[0]}, "sk": {"N": target[1]}},
            **APP_WRITES[write],
        )

    inject("before-send.dynamodb", Answer(app_write))
    job = ReencryptJob(
        table_name=range_table,
        old=CryptoConfig(materials_provider=old if signed else None, attribute_actions=ACTIONS),
        new=CryptoConfig(materials_provider=new, attribute_actions=ACTIONS),
        plaintext_policy=UnsignedItemPolicy.ADOPT,
    )
    report = reencrypt_table(dynamodb_client, job, ReencryptOptions(write_mode=mode))
    # In transact mode the three items go in one transaction (a batch of one would be sent
    # as a single write).
    assert done == ["TransactWriteItems" if mode is WriteMode.TRANSACT else "UpdateItem"]
    assert report.ok
    assert report.reencrypted == 3
    stored = dynamodb_client.get_item(
        TableName=range_table,
        Key={"pk": {"S": target[0]}, "sk": {"N": target[1]}},
        ConsistentRead=True,
    )["Item"]
    plain = encryptor(range_table, new, ACTIONS).decrypt(stored)
    if write == "add-new-attribute":
        assert plain["extra"] == {"S": "added by the app"}
    else:
        assert plain["hits"] == {"N": "1"}
    assert plain["secret"] == items[1]["secret"]
