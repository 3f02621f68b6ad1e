"""The reference's published most-recent-provider vectors, through a real meta table.

For each offline ``most_recent`` scenario (Python and Java writers; AES/HMAC and RSA meta
providers), the scenario's meta items are put, as published, into a fresh DynamoDB table named
exactly ``metastore.table_name`` (the name is bound into the meta items' signatures), and every
data item is decrypted by *our* :class:`MostRecentProvider` reading that table.

Scenarios that need real AWS KMS (``network: true``) are skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _vectors import (
    ITEMS_PER_SCENARIO,
    Scenario,
    build_provider,
    check_data_items,
    decode_ddb_item,
    load_json,
    load_key_specs,
    load_scenarios,
    offline,
)

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    MetaStore,
    MostRecentProvider,
)
from pynamodb_encryption.core._md import decode_material_description

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: Offline most-recent scenarios: {python, java} x {aes-hmac, rsa} meta providers.
EXPECTED_SCENARIOS = {
    "python/metastore-data-tables-1",
    "python/metastore-data-tables-2",
    "java/metastore-data-tables-1",
    "java/metastore-data-tables-2",
}


def _most_recent_scenarios(vectors_dir: Path) -> list[Scenario]:
    return [s for s in offline(load_scenarios(vectors_dir)) if s.provider.provider == "most_recent"]


def test_most_recent_scenario_inventory(reference_vectors_dir: Path) -> None:
    assert {s.id for s in _most_recent_scenarios(reference_vectors_dir)} == EXPECTED_SCENARIOS


@contextlib.contextmanager
def _loaded_meta_table(client: DynamoDBClient, scenario: Scenario) -> Iterator[str]:
    """A fresh meta table under the scenario's exact table name, holding its meta items."""
    assert scenario.metastore is not None
    name = scenario.metastore.table_name
    # The name is fixed by the vectors, so a leftover from an interrupted run is removed first.
    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
        client.delete_table(TableName=name)
        client.get_waiter("table_not_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    MetaStore.create_table(client, name)
    try:
        for stored in load_json(scenario.metastore.ciphertext)[name]:
            client.put_item(TableName=name, Item=decode_ddb_item(stored))
        yield name
    finally:
        client.delete_table(TableName=name)


@pytest.mark.parametrize("scenario_id", sorted(EXPECTED_SCENARIOS))
def test_vector_data_items_decrypt_with_our_most_recent_provider(
    reference_vectors_dir: Path, dynamodb_client: DynamoDBClient, scenario_id: str
) -> None:
    scenario = next(s for s in _most_recent_scenarios(reference_vectors_dir) if s.id == scenario_id)
    assert scenario.metastore is not None
    assert scenario.material_name is not None
    keys = load_key_specs(reference_vectors_dir)
    meta_provider = build_provider(scenario.metastore.provider, keys)
    with _loaded_meta_table(dynamodb_client, scenario) as meta_table:
        store = MetaStore(
            table_name=meta_table,
            materials_provider=meta_provider,
            dynamodb_client=dynamodb_client,
        )
        provider = MostRecentProvider(
            meta_store=store, material_name=scenario.material_name, ttl_seconds=60
        )
        result = check_data_items(scenario, lambda _stored: provider)
        assert result.checked == ITEMS_PER_SCENARIO

        # Writing with the published material uses its (only, highest) version.
        versions = store.versions(scenario.material_name)
        assert len(versions) == 1
        encryptor = ItemEncryptor(
            table_name="TableName",
            partition_key_name="hashKey",
            sort_key_name="rangeKey",
            attribute_actions=AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
            materials_provider=provider,
        )
        item: dict[str, Any] = {
            "hashKey": {"N": "1"},
            "rangeKey": {"N": "2"},
            "secret": {"S": "new data"},
        }
        stored = encryptor.encrypt(item)
        md = decode_material_description(stored["*amzn-ddb-map-desc*"]["B"])
        assert md["amzn-ddb-meta-id"] == f"{scenario.material_name}#{versions[0]}"
        assert encryptor.decrypt(stored) == item
        # No version was created by reading or writing.
        assert store.versions(scenario.material_name) == versions
