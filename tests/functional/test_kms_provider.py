"""AwsKmsMaterialsProvider against a real KMS API (moto server) and a real DynamoDB API."""

from __future__ import annotations

import base64
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    AwsKmsMaterialsProvider,
    ConfigurationError,
    CryptoAction,
    DecryptionError,
    ItemEncryptor,
    KmsDecryptCache,
    ProviderError,
    SignatureVerificationError,
)
from pynamodb_encryption.core._md import decode_material_description
from pynamodb_encryption.providers._aws_kms import derive_keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

MD = "*amzn-ddb-map-desc*"
SIG = "*amzn-ddb-map-sig*"


class CallCounter:
    """Counts the KMS operations a client really sends (botocore ``before-call`` events)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._client = client
        client.meta.events.register("before-call.kms.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def close(self) -> None:
        self._client.meta.events.unregister("before-call.kms.*", self._count)


@pytest.fixture
def counter(kms_client: KMSClient) -> Iterator[CallCounter]:
    count = CallCounter(kms_client)
    yield count
    count.close()


def _encryptor(provider: Any, table: str = "KmsTable", *, sort: bool = True) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        sort_key_name="sk" if sort else None,
        attribute_actions=AttributeActions(
            CryptoAction.ENCRYPT_AND_SIGN, {"plain": CryptoAction.DO_NOTHING}
        ),
        materials_provider=provider,
    )


ITEM = {
    "pk": {"S": "user#1"},
    "sk": {"N": "1.50"},
    "secret": {"S": "the plaintext"},
    "n": {"N": "7"},
    "plain": {"S": "visible"},
}


def test_round_trip_and_material_description(kms_client: KMSClient, kms_key_id: str) -> None:
    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    encryptor = _encryptor(provider)
    stored = encryptor.encrypt(ITEM)
    assert stored["secret"].keys() == {"B"}
    assert stored["plain"] == {"S": "visible"}
    assert stored["sk"] == {"N": "1.50"}
    md = decode_material_description(stored[MD]["B"])
    assert set(md) == {
        "amzn-ddb-env-key",
        "amzn-ddb-env-alg",
        "amzn-ddb-sig-alg",
        "amzn-ddb-wrap-alg",
        "aws-kms-ec-attr",
        "amzn-ddb-map-sym-mode",
        "amzn-ddb-map-signingAlg",
    }
    assert md["amzn-ddb-env-alg"] == "AES/256"
    assert md["amzn-ddb-sig-alg"] == "HmacSHA256/256"
    assert md["amzn-ddb-wrap-alg"] == "kms"
    assert md["aws-kms-ec-attr"] == "*keys*"
    assert md["amzn-ddb-map-signingAlg"] == "HmacSHA256"
    assert encryptor.decrypt(stored) == ITEM


def test_kms_encryption_context_and_hkdf(kms_client: KMSClient, kms_key_id: str) -> None:
    """The data key is bound to exactly the documented EC, and the item keys are its HKDF."""
    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    item = {"pk": {"B": b"\x00\xffkey"}, "sk": {"N": "1.50"}, "secret": {"S": "x"}}
    stored = _encryptor(provider).encrypt(item)
    md = decode_material_description(stored[MD]["B"])
    blob = base64.b64decode(md["amzn-ddb-env-key"])
    expected_ec = {
        "*amzn-ddb-env-alg*": "AES/256",
        "*amzn-ddb-sig-alg*": "HmacSHA256/256",
        "pk": base64.b64encode(b"\x00\xffkey").decode(),
        "sk": "1.50",  # raw, not normalized
        "*aws-kms-table*": "KmsTable",
    }
    ikm = kms_client.decrypt(CiphertextBlob=blob, EncryptionContext=expected_ec)["Plaintext"]
    assert len(ikm) == 32
    keys = derive_keys(ikm)
    body = {k: v for k, v in stored.items() if k not in (MD, SIG)}
    from pynamodb_encryption.core._encryptor import string_to_sign

    actions = _encryptor(provider).attribute_actions
    assert keys.mac_key.verify(stored[SIG]["B"], string_to_sign(body, "KmsTable", actions))
    for wrong in ({**expected_ec, "sk": "1.5"}, {**expected_ec, "*aws-kms-table*": "Other"}):
        with pytest.raises(ClientError, match="InvalidCiphertext"):
            kms_client.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda item: {**item, "sk": {"N": "1.5"}}, DecryptionError),  # KMS EC differs
        (lambda item: {**item, "pk": {"S": "user#2"}}, DecryptionError),
    ],
)
def test_moved_or_rekeyed_item_is_rejected(
    kms_client: KMSClient,
    kms_key_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    error: type[Exception],
) -> None:
    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    stored = _encryptor(provider).encrypt(ITEM)
    with pytest.raises(error) as info:
        _encryptor(provider).decrypt(change(stored))
    assert isinstance(info.value.__cause__, ClientError)
    assert "InvalidCiphertext" in str(info.value)


def test_item_copied_to_another_table_is_rejected(kms_client: KMSClient, kms_key_id: str) -> None:
    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    stored = _encryptor(provider, "TableA").encrypt(ITEM)
    with pytest.raises(DecryptionError) as info:
        _encryptor(provider, "TableB").decrypt(stored)
    assert info.value.table == "TableB"


def test_tampered_material_description_entry(kms_client: KMSClient, kms_key_id: str) -> None:
    from pynamodb_encryption.core._md import encode_material_description

    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    stored = _encryptor(provider).encrypt(ITEM)
    md = decode_material_description(stored[MD]["B"])
    md["amzn-ddb-sig-alg"] = "HmacSHA256/128"  # still a valid algorithm: KMS must refuse it
    with pytest.raises(DecryptionError):
        _encryptor(provider).decrypt({**stored, MD: {"B": encode_material_description(md)}})


def test_signature_still_checked(kms_client: KMSClient, kms_key_id: str) -> None:
    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    stored = _encryptor(provider).encrypt(ITEM)
    with pytest.raises(SignatureVerificationError):
        _encryptor(provider).decrypt({**stored, "n": {"N": "8"}})


def test_key_arn_alias_and_grant_tokens(
    kms_client: KMSClient, kms_key_id: str, kms_key_arn: str
) -> None:
    alias = f"alias/pe-{kms_key_id[:8]}"
    kms_client.create_alias(AliasName=alias, TargetKeyId=kms_key_id)
    for key in (kms_key_arn, alias):
        provider = AwsKmsMaterialsProvider(
            key_id=key, kms_client=kms_client, grant_tokens=["token-a"]
        )
        stored = _encryptor(provider).encrypt(ITEM)
        # Any provider can decrypt: the blob names its key.
        other = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
        assert _encryptor(other).decrypt(stored) == ITEM


def test_client_created_lazily_in_the_key_region(
    kms_endpoint: str, kms_key_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    created: list[dict[str, Any]] = []
    real_client = boto3.client

    def spy(*args: Any, **kwargs: Any) -> Any:
        created.append({"args": args, **kwargs})
        return real_client(*args, **kwargs)

    monkeypatch.setattr(boto3, "client", spy)
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", kms_endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")  # the ARN's region must win
    provider = AwsKmsMaterialsProvider(key_id=kms_key_arn)
    assert created == []  # no I/O and no client in __init__
    stored = _encryptor(provider).encrypt(ITEM)
    assert _encryptor(provider).decrypt(stored) == ITEM
    assert created == [{"args": ("kms",), "region_name": "us-east-1"}]


def test_kms_errors_become_provider_errors(kms_client: KMSClient) -> None:
    missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    provider = AwsKmsMaterialsProvider(key_id=missing, kms_client=kms_client)
    with pytest.raises(ProviderError) as info:
        _encryptor(provider).encrypt(ITEM)
    assert "NotFoundException" in str(info.value)
    assert isinstance(info.value.__cause__, ClientError)
    assert info.value.table == "KmsTable"


def test_garbage_data_key_is_a_decryption_error(kms_client: KMSClient, kms_key_id: str) -> None:
    from pynamodb_encryption.core._md import encode_material_description

    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    stored = _encryptor(provider).encrypt(ITEM)
    md = decode_material_description(stored[MD]["B"])
    blob = bytearray(base64.b64decode(md["amzn-ddb-env-key"]))
    blob[-1] ^= 1
    md["amzn-ddb-env-key"] = base64.b64encode(bytes(blob)).decode()
    with pytest.raises(DecryptionError):
        _encryptor(provider).decrypt({**stored, MD: {"B": encode_material_description(md)}})


def test_other_algorithms_from_the_provider_description(
    kms_client: KMSClient, kms_key_id: str
) -> None:
    provider = AwsKmsMaterialsProvider(
        key_id=kms_key_id,
        kms_client=kms_client,
        material_description={"amzn-ddb-env-alg": "AES/128", "amzn-ddb-sig-alg": "HmacSHA384/384"},
    )
    stored = _encryptor(provider).encrypt(ITEM)
    md = decode_material_description(stored[MD]["B"])
    assert (md["amzn-ddb-env-alg"], md["amzn-ddb-sig-alg"]) == ("AES/128", "HmacSHA384/384")
    assert md["amzn-ddb-map-signingAlg"] == "HmacSHA384"
    assert len(stored[SIG]["B"]) == 48
    plain = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    assert _encryptor(plain).decrypt(stored) == ITEM
    with pytest.raises(ConfigurationError):
        AwsKmsMaterialsProvider(key_id=kms_key_id, material_description={"amzn-ddb-env-alg": "DES"})


# --------------------------------------------------------------------------------------------
# Decrypt cache


def test_no_cache_by_default(kms_client: KMSClient, kms_key_id: str, counter: CallCounter) -> None:
    provider = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    assert provider.decrypt_cache is None
    encryptor = _encryptor(provider)
    stored = encryptor.encrypt(ITEM)
    for _ in range(3):
        encryptor.decrypt(stored)
    assert counter.calls == {"GenerateDataKey": 1, "Decrypt": 3}


def test_read_loop_kms_calls_saved_by_the_cache(
    kms_client: KMSClient, kms_key_id: str, counter: CallCounter
) -> None:
    """20 items read 10 times each: 200 Decrypt calls without the cache, 20 with it."""
    items = [{**ITEM, "sk": {"N": str(i)}} for i in range(20)]
    writer = _encryptor(AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client))
    stored = [writer.encrypt(item) for item in items]
    assert counter.calls["GenerateDataKey"] == 20

    results = {}
    for label, cache in (("uncached", None), ("cached", KmsDecryptCache())):
        counter.calls.clear()
        reader = _encryptor(
            AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client, decrypt_cache=cache)
        )
        for _ in range(10):
            for raw, item in zip(stored, items, strict=False):
                assert reader.decrypt(raw) == item
        results[label] = counter.calls["Decrypt"]
        assert counter.calls["GenerateDataKey"] == 0  # never on read
    assert results == {"uncached": 200, "cached": 20}


def test_cache_is_never_used_on_encrypt(
    kms_client: KMSClient, kms_key_id: str, counter: CallCounter
) -> None:
    cache = KmsDecryptCache()
    encryptor = _encryptor(
        AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client, decrypt_cache=cache)
    )
    blobs = {encryptor.encrypt(ITEM)[MD]["B"] for _ in range(5)}
    assert len(blobs) == 5  # a fresh data key every time
    assert counter.calls["GenerateDataKey"] == 5
    assert len(cache) == 0


def test_cache_ttl_and_max_uses(
    kms_client: KMSClient, kms_key_id: str, counter: CallCounter
) -> None:
    now = [1000.0]
    cache = KmsDecryptCache(ttl_seconds=60, max_uses=3, clock=lambda: now[0])
    encryptor = _encryptor(
        AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client, decrypt_cache=cache)
    )
    stored = encryptor.encrypt(ITEM)
    counter.calls.clear()
    for _ in range(4):  # 1 miss + 3 hits
        encryptor.decrypt(stored)
    assert counter.calls["Decrypt"] == 1
    encryptor.decrypt(stored)  # uses exhausted: back to KMS
    assert counter.calls["Decrypt"] == 2
    now[0] += 61  # expired
    encryptor.decrypt(stored)
    assert counter.calls["Decrypt"] == 3


def test_cache_does_not_bypass_the_encryption_context(
    kms_client: KMSClient, kms_key_id: str
) -> None:
    """A cached data key must not serve the same blob under another table or key."""
    cache = KmsDecryptCache()
    provider = AwsKmsMaterialsProvider(
        key_id=kms_key_id, kms_client=kms_client, decrypt_cache=cache
    )
    stored = _encryptor(provider, "TableA").encrypt(ITEM)
    assert _encryptor(provider, "TableA").decrypt(stored) == ITEM
    with pytest.raises(DecryptionError):
        _encryptor(provider, "TableB").decrypt(stored)
    with pytest.raises(DecryptionError):
        _encryptor(provider, "TableA").decrypt({**stored, "pk": {"S": "user#2"}})


def test_threads_share_a_cached_provider(kms_client: KMSClient, kms_key_id: str) -> None:
    cache = KmsDecryptCache(max_entries=8)
    provider = AwsKmsMaterialsProvider(
        key_id=kms_key_id, kms_client=kms_client, decrypt_cache=cache
    )
    encryptor = _encryptor(provider)
    items = [{**ITEM, "sk": {"N": str(i)}} for i in range(12)]
    stored = [encryptor.encrypt(item) for item in items]
    failures: list[BaseException] = []

    def reader(offset: int) -> None:
        try:
            for round_ in range(3):
                for i in range(len(items)):
                    j = (i + offset + round_) % len(items)
                    assert encryptor.decrypt(stored[j]) == items[j]
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(cache) <= 8


# --------------------------------------------------------------------------------------------
# With a real table, and property-based round trips


def test_put_get_through_dynamodb(
    kms_client: KMSClient,
    kms_key_id: str,
    dynamodb_client: DynamoDBClient,
    make_table: Callable[..., str],
) -> None:
    table = make_table(range_key=True)
    encryptor = _encryptor(AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client), table)
    item = {**ITEM, "sk": {"N": "15"}}
    dynamodb_client.put_item(TableName=table, Item=encryptor.encrypt(item))
    got = dynamodb_client.get_item(
        TableName=table, Key={"pk": item["pk"], "sk": item["sk"]}, ConsistentRead=True
    )["Item"]
    assert encryptor.decrypt(got) == item


_names = st.text(st.characters(codec="utf-8", exclude_characters="*"), min_size=1, max_size=8)
_values = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=20)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-(10**20), 10**20)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=20)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
)
_keys = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(min_size=1, max_size=20)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-(10**9), 10**9)),
    st.builds(lambda b: {"B": b}, st.binary(min_size=1, max_size=20)),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pk=_keys,
    body=st.dictionaries(_names.filter(lambda n: n not in ("pk", "sk")), _values, max_size=5),
)
def test_round_trip_property(
    kms_client: KMSClient, kms_key_id: str, pk: dict[str, Any], body: dict[str, Any]
) -> None:
    item = {"pk": pk, **body}
    encryptor = _encryptor(
        AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client), sort=False
    )
    stored = encryptor.encrypt(item)
    assert encryptor.decrypt(stored) == item


def test_non_canonical_numeric_key_breaks_after_a_dynamodb_round_trip(
    ddb_backend: str,
    kms_client: KMSClient,
    kms_key_id: str,
    dynamodb_client: DynamoDBClient,
    make_table: Callable[..., str],
) -> None:
    """The reference behaviour (raw N string in the KMS context), and why keys must be canonical.

    DynamoDB returns "1.50" as "1.5", so the KMS context differs on read. moto keeps the
    string as sent, so only DynamoDB Local shows the failure.
    """
    table = make_table(range_key=True)
    encryptor = _encryptor(AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client), table)
    dynamodb_client.put_item(TableName=table, Item=encryptor.encrypt(ITEM))  # sk "1.50"
    got = dynamodb_client.scan(TableName=table, ConsistentRead=True)["Items"][0]
    if ddb_backend == "ddblocal":
        assert got["sk"] == {"N": "1.5"}
        with pytest.raises(DecryptionError):
            encryptor.decrypt(got)
    else:
        assert got["sk"] == {"N": "1.50"}
        assert encryptor.decrypt(got) == ITEM


def test_decrypt_enforces_the_providers_key(kms_client: KMSClient, kms_key_id: str) -> None:
    """A writer holding *another* KMS key the reader may use must not be able to forge items:
    Decrypt names the provider's key, so a data key made by any other key is refused."""
    other_key = kms_client.create_key(Description="pe-other")["KeyMetadata"]["KeyId"]
    forged = _encryptor(AwsKmsMaterialsProvider(key_id=other_key, kms_client=kms_client)).encrypt(
        ITEM
    )
    reader = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    # AWS answers IncorrectKeyException (a DecryptionError); moto answers AccessDeniedException,
    # which on AWS means missing permissions (a ProviderError). Either way: refused.
    with pytest.raises((DecryptionError, ProviderError)):
        _encryptor(reader).decrypt(forged)
    # The reference library's behaviour, for reading items of several keys, is an explicit opt-out.
    lenient = AwsKmsMaterialsProvider(
        key_id=kms_key_id, kms_client=kms_client, enforce_key_id=False
    )
    assert _encryptor(lenient).decrypt(forged) == ITEM
