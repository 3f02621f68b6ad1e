"""The migration job (issue 11): the re-encryption job takes a DB-ESDK configuration on either
side. A table converted from the legacy format while legacy and DB-ESDK writers keep writing:
no acknowledged write lost, every item DB-ESDK at the end, a further run rewrites nothing.
Plaintext -> DB-ESDK and DB-ESDK -> DB-ESDK (another keyring) too."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from pynamodb_encryption import DecryptionError, StaticMaterialsProvider, SymmetricKey
from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DynamoDbTableEncryptionConfig,
    LegacyPolicy,
    RawAesKeyring,
)
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    ReencryptJob,
    ReencryptOptions,
    UnsignedItemPolicy,
    WriteMode,
    job_for_model,
    reencrypt_table,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey.generate("AES", 256),
    signing_key=SymmetricKey.generate("HmacSHA256", 256),
)
KEYRING = RawAesKeyring(key_namespace="job", key_name="k1", wrapping_key=os.urandom(32))
OTHER_KEYRING = RawAesKeyring(key_namespace="job", key_name="k2", wrapping_key=os.urandom(32))
ITEMS = 24


def _model(table: str, host: str, policy: LegacyPolicy) -> Any:
    class Account(EncryptedModel):
        class Meta:
            table_name = table
            materials_provider = PROVIDER
            keyring = KEYRING
            legacy_policy = policy

        pk = UnicodeAttribute(hash_key=True)
        secret = EncryptedAttribute(UnicodeAttribute(null=True))
        counter = SignedAttribute(NumberAttribute(default=0))
        hits = NumberAttribute(default=0)  # unsigned: updated natively

    Account.Meta.host = host  # type: ignore[attr-defined]
    return Account


def _formats(dynamodb_client: Any, table: str) -> Counter[str]:
    formats: Counter[str] = Counter()
    for page in dynamodb_client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if "aws_dbe_head" in item:
                formats["dbesdk"] += 1
            elif "*amzn-ddb-map-sig*" in item:
                formats["legacy"] += 1
            else:
                formats["plaintext"] += 1
    return formats


def test_legacy_to_dbesdk_while_mixed_writers_write(
    ddb_endpoint: str, make_table: Callable[..., str], dynamodb_client: Any
) -> None:
    table = make_table()
    legacy_writer = _model(
        table, ddb_endpoint, LegacyPolicy.FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT
    )
    dbe_writer = _model(
        table, ddb_endpoint, LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT
    )
    reader = _model(table, ddb_endpoint, LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT)
    for n in range(ITEMS):
        legacy_writer(f"a{n}", secret=f"s{n}").save()
    assert _formats(dynamodb_client, table) == {"legacy": ITEMS}

    signed_acks: Counter[str] = Counter()
    native_acks: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(model: Any, seed: int) -> None:
        n = seed
        try:
            while not stop.is_set():
                key = f"a{n % ITEMS}"
                n += 7
                item = model(key)
                if n % 2:
                    item.update([model.counter.add(1)])  # signed: read, re-sign, conditional
                    with lock:
                        signed_acks[key] += 1
                else:
                    item.update([model.hits.add(1)])  # unsigned: native UpdateItem
                    with lock:
                        native_acks[key] += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [
        threading.Thread(target=write, args=(legacy_writer, 0)),
        threading.Thread(target=write, args=(legacy_writer, 3)),
        threading.Thread(target=write, args=(dbe_writer, 1)),
        threading.Thread(target=write, args=(dbe_writer, 5)),
    ]
    for thread in writers:
        thread.start()
    job = job_for_model(
        dbe_writer,
        old=CryptoConfig(
            materials_provider=PROVIDER, attribute_actions=dbe_writer.get_attribute_actions()
        ),
    )
    try:
        first = reencrypt_table(dynamodb_client, job, ReencryptOptions(page_size=5))
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert not errors
    assert first.ok, first.to_dict()
    assert sum(signed_acks.values()) > 0
    assert sum(native_acks.values()) > 0
    # Legacy writers kept writing after the job passed some items: a second run takes those.
    second = reencrypt_table(dynamodb_client, job)
    assert second.ok
    assert _formats(dynamodb_client, table) == {"dbesdk": ITEMS}
    third = reencrypt_table(dynamodb_client, job)
    assert (third.reencrypted, third.already_current, third.failed) == (0, ITEMS, 0)
    # Nothing acknowledged was lost, and the stage-3 model reads every item.
    for n in range(ITEMS):
        item = reader.get(f"a{n}", consistent_read=True)
        assert item.secret == f"s{n}"
        assert item.counter == signed_acks[f"a{n}"]
        assert item.hits == native_acks[f"a{n}"]


@pytest.mark.parametrize("mode", [WriteMode.PUT, WriteMode.TRANSACT])
def test_plaintext_to_dbesdk(
    ddb_endpoint: str, make_table: Callable[..., str], dynamodb_client: Any, mode: WriteMode
) -> None:
    table = make_table()
    for n in range(5):
        dynamodb_client.put_item(
            TableName=table,
            Item={"pk": {"S": f"p{n}"}, "secret": {"S": f"s{n}"}, "counter": {"N": "1"}},
        )
    model = _model(table, ddb_endpoint, LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT)
    job = job_for_model(model, old=CryptoConfig(), plaintext_policy=UnsignedItemPolicy.ADOPT)
    report = reencrypt_table(dynamodb_client, job, ReencryptOptions(write_mode=mode))
    assert (report.reencrypted, report.failed) == (5, 0)
    assert _formats(dynamodb_client, table) == {"dbesdk": 5}
    assert model.get("p3").secret == "s3"
    assert reencrypt_table(dynamodb_client, job).reencrypted == 0


def test_dbesdk_to_dbesdk_another_keyring_then_other_actions(
    ddb_endpoint: str, make_table: Callable[..., str], dynamodb_client: Any
) -> None:
    table = make_table()
    model = _model(table, ddb_endpoint, LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT)
    for n in range(6):
        model(f"d{n}", secret=f"s{n}", counter=n).save()

    def config(keyring: Any) -> DynamoDbTableEncryptionConfig:
        return DynamoDbTableEncryptionConfig(
            logical_table_name=table,
            partition_key_name="pk",
            attribute_actions_on_encrypt={
                "pk": CryptoAction.SIGN_ONLY,
                "secret": CryptoAction.ENCRYPT_AND_SIGN,
                "counter": CryptoAction.SIGN_ONLY,
                "hits": CryptoAction.DO_NOTHING,
            },
            allowed_unsigned_attributes=["hits"],
            keyring=keyring,
        )

    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(dbesdk=config(KEYRING)),
        new=CryptoConfig(dbesdk=config(OTHER_KEYRING)),
    )
    report = reencrypt_table(dynamodb_client, job, ReencryptOptions(segments=2))
    assert (report.reencrypted, report.failed) == (6, 0)
    assert reencrypt_table(dynamodb_client, job).already_current == 6
    with pytest.raises(DecryptionError):
        model.get("d1", consistent_read=True)  # the old keyring no longer opens the items
    model.Meta.keyring = OTHER_KEYRING  # type: ignore[attr-defined]
    assert model.get("d4", consistent_read=True).counter == 4

    # New actions, same keyring: `counter` becomes encrypted. The keyring opens every item,
    # but their headers say SIGN_ONLY, so none is current until rewritten.
    encrypted = config(OTHER_KEYRING)
    actions = dict(encrypted.attribute_actions_on_encrypt)
    actions["counter"] = CryptoAction.ENCRYPT_AND_SIGN
    new_actions = ReencryptJob(
        table_name=table,
        old=CryptoConfig(dbesdk=config(OTHER_KEYRING)),
        new=CryptoConfig(
            dbesdk=DynamoDbTableEncryptionConfig(
                logical_table_name=table,
                partition_key_name="pk",
                attribute_actions_on_encrypt=actions,
                allowed_unsigned_attributes=["hits"],
                keyring=OTHER_KEYRING,
            )
        ),
    )
    assert reencrypt_table(dynamodb_client, new_actions).reencrypted == 6
    assert reencrypt_table(dynamodb_client, new_actions).already_current == 6
    raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "d2"}})["Item"]
    assert "B" in raw["counter"]


def test_an_interrupted_conversion_resumes_from_its_checkpoint(
    ddb_endpoint: str, make_table: Callable[..., str], dynamodb_client: Any, tmp_path: Any
) -> None:
    table = make_table()
    legacy = _model(table, ddb_endpoint, LegacyPolicy.FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT)
    model = _model(table, ddb_endpoint, LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT)
    for n in range(30):
        legacy(f"r{n}", secret=f"s{n}").save()
    job = job_for_model(
        model,
        old=CryptoConfig(
            materials_provider=PROVIDER, attribute_actions=model.get_attribute_actions()
        ),
    )
    checkpoint = tmp_path / "job.checkpoint"
    pages: list[int] = []

    def interrupt(progress: Any) -> None:
        pages.append(progress.scanned)
        if len(pages) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reencrypt_table(
            dynamodb_client,
            job,
            ReencryptOptions(page_size=5, checkpoint_path=checkpoint, progress=interrupt),
        )
    assert checkpoint.exists()
    assert 0 < _formats(dynamodb_client, table)["dbesdk"] < 30
    resumed = reencrypt_table(
        dynamodb_client, job, ReencryptOptions(page_size=5, checkpoint_path=checkpoint)
    )
    assert resumed.resumed
    assert resumed.ok
    assert resumed.scanned < 30
    assert not checkpoint.exists()
    assert _formats(dynamodb_client, table) == {"dbesdk": 30}
    assert sorted(a.secret for a in model.scan()) == sorted(f"s{n}" for n in range(30))
