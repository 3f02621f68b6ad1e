"""Direct KMS and most-recent/meta-store interop with the reference library, both directions.

The reference (``dynamodb-encryption-sdk`` 3.3.0) runs against the same servers: moto KMS for
KMS, and the DynamoDB backend of the test variant for the shared meta table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    AwsKmsMaterialsProvider,
    CryptoAction,
    ItemEncryptor,
    KmsDecryptCache,
    MetaStore,
    MostRecentProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.core._md import decode_material_description

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

ref_item = pytest.importorskip("dynamodb_encryption_sdk.encrypted.item")
from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey  # noqa: E402
from dynamodb_encryption_sdk.encrypted import CryptoConfig  # noqa: E402
from dynamodb_encryption_sdk.identifiers import (  # noqa: E402
    CryptoAction as RefAction,
)
from dynamodb_encryption_sdk.identifiers import (  # noqa: E402
    EncryptionKeyType,
    KeyEncodingType,
)
from dynamodb_encryption_sdk.material_providers.aws_kms import (  # noqa: E402
    AwsKmsCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.material_providers.most_recent import (  # noqa: E402
    CachingMostRecentProvider,
)
from dynamodb_encryption_sdk.material_providers.store.meta import (  # noqa: E402
    MetaStore as RefMetaStore,
)
from dynamodb_encryption_sdk.material_providers.wrapped import (  # noqa: E402
    WrappedCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.structures import (  # noqa: E402
    AttributeActions as RefActions,
)
from dynamodb_encryption_sdk.structures import (  # noqa: E402
    EncryptionContext as RefContext,
)

MD = "*amzn-ddb-map-desc*"
TABLE = "InteropTable"
AES_KEK = bytes(range(32))
HMAC_KEY = bytes(range(32, 64))


# --------------------------------------------------------------------------------------------
# Helpers: the same table, keys and actions on both sides


def _ours(provider: Any, *, table: str = TABLE, sort: str | None = "sk") -> ItemEncryptor:
    return ItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        sort_key_name=sort,
        attribute_actions=AttributeActions(
            CryptoAction.ENCRYPT_AND_SIGN, {"signed": CryptoAction.SIGN_ONLY}
        ),
        materials_provider=provider,
    )


def _ref_config(provider: Any, item: dict[str, Any], *, sort: str | None = "sk") -> Any:
    actions = RefActions(
        default_action=RefAction.ENCRYPT_AND_SIGN,
        attribute_actions={"signed": RefAction.SIGN_ONLY},
    )
    actions.set_index_keys(*(name for name in ("pk", sort) if name is not None))
    context = RefContext(table_name=TABLE, partition_key_name="pk", sort_key_name=sort)
    config = CryptoConfig(
        materials_provider=provider, encryption_context=context, attribute_actions=actions
    )
    return config.with_item(item)


def ref_encrypt(provider: Any, item: dict[str, Any], *, sort: str | None = "sk") -> Any:
    return ref_item.encrypt_dynamodb_item(dict(item), _ref_config(provider, item, sort=sort))


def ref_decrypt(provider: Any, item: dict[str, Any], *, sort: str | None = "sk") -> Any:
    # The reference pops the signature and description from its argument: give it a copy.
    return ref_item.decrypt_dynamodb_item(dict(item), _ref_config(provider, item, sort=sort))


def _md(stored: dict[str, Any]) -> dict[str, str]:
    return decode_material_description(stored[MD]["B"])


def _jce(key: bytes, algorithm: str) -> Any:
    return JceNameLocalDelegatedKey(
        key=key,
        algorithm=algorithm,
        key_type=EncryptionKeyType.SYMMETRIC,
        key_encoding=KeyEncodingType.RAW,
    )


ITEM = {
    "pk": {"S": "tenant-1"},
    "sk": {"N": "1.50"},  # kept raw in the KMS encryption context by both sides
    "secret": {"S": "the plaintext"},
    "signed": {"N": "42"},
    "blob": {"B": b"\x00\x01\xff"},
}


# --------------------------------------------------------------------------------------------
# Direct KMS


@pytest.fixture
def ref_kms(kms_client: KMSClient, kms_key_arn: str) -> Any:
    # The reference picks its client by the ARN's region: hand it ours (moto endpoint).
    return AwsKmsCryptographicMaterialsProvider(
        key_id=kms_key_arn, regional_clients={"us-east-1": kms_client}
    )


@pytest.fixture
def our_kms(kms_client: KMSClient, kms_key_arn: str) -> AwsKmsMaterialsProvider:
    return AwsKmsMaterialsProvider(key_id=kms_key_arn, kms_client=kms_client)


def test_kms_ours_to_reference(our_kms: AwsKmsMaterialsProvider, ref_kms: Any) -> None:
    stored = _ours(our_kms).encrypt(ITEM)
    assert ref_decrypt(ref_kms, stored) == ITEM


def test_kms_reference_to_ours(our_kms: AwsKmsMaterialsProvider, ref_kms: Any) -> None:
    stored = ref_encrypt(ref_kms, ITEM)
    assert _ours(our_kms).decrypt(stored) == ITEM
    cached = AwsKmsMaterialsProvider(
        key_id=our_kms.key_id, kms_client=our_kms._kms(), decrypt_cache=KmsDecryptCache()
    )
    assert _ours(cached).decrypt(stored) == _ours(cached).decrypt(stored) == ITEM


def test_kms_material_descriptions_match(our_kms: AwsKmsMaterialsProvider, ref_kms: Any) -> None:
    ours = _md(_ours(our_kms).encrypt(ITEM))
    theirs = _md(ref_encrypt(ref_kms, ITEM))
    # Each item has its own data key (the blob format is the KMS server's own).
    assert ours.pop("amzn-ddb-env-key") != theirs.pop("amzn-ddb-env-key")
    assert ours == theirs


def test_kms_binary_key_and_no_sort_key(our_kms: AwsKmsMaterialsProvider, ref_kms: Any) -> None:
    item = {"pk": {"B": b"\xfe\xff binary key"}, "secret": {"S": "x"}}
    assert ref_decrypt(ref_kms, _ours(our_kms, sort=None).encrypt(item), sort=None) == item
    assert _ours(our_kms, sort=None).decrypt(ref_encrypt(ref_kms, item, sort=None)) == item


_value = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=20)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-(10**15), 10**15)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=16)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.builds(lambda xs: {"L": xs}, st.lists(st.builds(lambda s: {"S": s}, st.text()), max_size=3)),
)
_key = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(min_size=1, max_size=12)),
    st.builds(lambda b: {"B": b}, st.binary(min_size=1, max_size=12)),
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pk=_key, sk=st.integers(0, 10**6), secret=_value, signed=_value)
def test_kms_both_directions_property(
    our_kms: AwsKmsMaterialsProvider,
    ref_kms: Any,
    pk: dict[str, Any],
    sk: int,
    secret: dict[str, Any],
    signed: dict[str, Any],
) -> None:
    item = {"pk": pk, "sk": {"N": str(sk)}, "secret": secret, "signed": signed}
    assert ref_decrypt(ref_kms, _ours(our_kms).encrypt(item)) == item
    assert _ours(our_kms).decrypt(ref_encrypt(ref_kms, item)) == item


# --------------------------------------------------------------------------------------------
# Most recent provider over one shared meta table


@pytest.fixture
def meta_table(dynamodb_client: DynamoDBClient, table_name: str) -> Iterator[str]:
    MetaStore.create_table(dynamodb_client, table_name)
    yield table_name
    with contextlib.suppress(Exception):
        dynamodb_client.delete_table(TableName=table_name)


@pytest.fixture
def our_store(dynamodb_client: DynamoDBClient, meta_table: str) -> MetaStore:
    meta_provider = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(AES_KEK, "AES"),
        signing_key=SymmetricKey(HMAC_KEY, "HmacSHA256"),
    )
    return MetaStore(
        table_name=meta_table, materials_provider=meta_provider, dynamodb_client=dynamodb_client
    )


@pytest.fixture
def ref_store(ddb_endpoint: str, meta_table: str) -> Any:
    import boto3

    table = boto3.resource("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1").Table(
        meta_table
    )
    meta_provider = WrappedCryptographicMaterialsProvider(
        signing_key=_jce(HMAC_KEY, "HmacSHA256"),
        wrapping_key=_jce(AES_KEK, "AES"),
        unwrapping_key=_jce(AES_KEK, "AES"),
    )
    return RefMetaStore(table, meta_provider)


def test_versions_created_by_the_reference_work_here(our_store: MetaStore, ref_store: Any) -> None:
    ref_mrp = CachingMostRecentProvider(ref_store, "shared", 60.0)
    v0 = ref_encrypt(ref_mrp, ITEM)  # creates version 0
    ref_store.new_provider("shared")  # version 1
    assert our_store.versions("shared") == [0, 1]
    assert our_store.max_version("shared") == 1
    ours = MostRecentProvider(meta_store=our_store, material_name="shared", ttl_seconds=60)
    assert _ours(ours).decrypt(v0) == ITEM
    mine = _ours(ours).encrypt(ITEM)
    assert _md(mine)["amzn-ddb-meta-id"] == "shared#1"
    ref_mrp.refresh()
    assert ref_decrypt(ref_mrp, mine) == ITEM
    v1 = ref_encrypt(ref_mrp, ITEM)
    assert _md(v1)["amzn-ddb-meta-id"] == "shared#1"
    assert _ours(ours).decrypt(v1) == ITEM


def test_versions_created_here_work_in_the_reference(our_store: MetaStore, ref_store: Any) -> None:
    ours = MostRecentProvider(meta_store=our_store, material_name="mine", ttl_seconds=0)
    v0 = _ours(ours).encrypt(ITEM)  # creates version 0 here
    assert our_store.new_version("mine") == 1
    v1 = _ours(ours).encrypt(ITEM)
    assert [_md(v)["amzn-ddb-meta-id"] for v in (v0, v1)] == ["mine#0", "mine#1"]
    assert ref_store.max_version("mine") == 1
    ref_mrp = CachingMostRecentProvider(ref_store, "mine", 60.0)
    assert ref_decrypt(ref_mrp, v0) == ITEM
    assert ref_decrypt(ref_mrp, v1) == ITEM
    theirs = ref_encrypt(ref_mrp, ITEM)
    assert _md(theirs)["amzn-ddb-meta-id"] == "mine#1"
    assert _ours(ours).decrypt(theirs) == ITEM


def test_data_item_descriptions_match(our_store: MetaStore, ref_store: Any) -> None:
    our_store.new_version("md")
    ours = _md(
        _ours(MostRecentProvider(meta_store=our_store, material_name="md", ttl_seconds=60)).encrypt(
            ITEM
        )
    )
    theirs = _md(ref_encrypt(CachingMostRecentProvider(ref_store, "md", 60.0), ITEM))
    assert ours.pop("amzn-ddb-env-key") != theirs.pop("amzn-ddb-env-key")  # fresh content keys
    assert ours == theirs
    assert ours["amzn-ddb-meta-id"] == "md#0"
    assert ours["amzn-ddb-wrap-alg"] == "AESWrap"


def test_meta_store_protected_by_kms_both_ways(
    dynamodb_client: DynamoDBClient,
    meta_table: str,
    ddb_endpoint: str,
    kms_client: KMSClient,
    kms_key_arn: str,
) -> None:
    import boto3

    our_meta = AwsKmsMaterialsProvider(key_id=kms_key_arn, kms_client=kms_client)
    ref_meta = AwsKmsCryptographicMaterialsProvider(
        key_id=kms_key_arn, regional_clients={"us-east-1": kms_client}
    )
    store = MetaStore(
        table_name=meta_table, materials_provider=our_meta, dynamodb_client=dynamodb_client
    )
    table = boto3.resource("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1").Table(
        meta_table
    )
    ref = RefMetaStore(table, ref_meta)
    store.new_version("k")  # v0 here
    ref.new_provider("k")  # v1 in the reference
    ours = MostRecentProvider(meta_store=store, material_name="k", ttl_seconds=60)
    ref_mrp = CachingMostRecentProvider(ref, "k", 60.0)
    mine = _ours(ours).encrypt(ITEM)
    theirs = ref_encrypt(ref_mrp, ITEM)
    assert _md(mine)["amzn-ddb-meta-id"] == _md(theirs)["amzn-ddb-meta-id"] == "k#1"
    assert ref_decrypt(ref_mrp, mine) == ITEM
    assert _ours(ours).decrypt(theirs) == ITEM
    old = _ours(store.provider("k", 0)).encrypt(ITEM)
    assert ref_decrypt(ref_mrp, old) == ITEM
