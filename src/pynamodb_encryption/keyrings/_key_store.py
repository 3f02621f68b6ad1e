"""The branch key store: AWS's DynamoDB key-store table, read and written in AWS's format.

Sources: ``ESDK-SPEC:framework/branch-key-store.md`` (operations, record format, encryption
context) and AWS's material providers ``AwsCryptographyKeyStore/src/*.dfy`` (what ships).
Hierarchy version 1 only (every branch key AWS's libraries create by default).

Table: ``branch-key-id`` (S, partition) + ``type`` (S, sort). Per branch key id, one item per
version (``type = "branch:version:<uuid>"``), the copy of the active version
(``"branch:ACTIVE"``, with ``version = "branch:version:<uuid>"``) and the beacon key
(``"beacon:ACTIVE"``). ``enc`` holds the KMS ciphertext of the 32-byte key; KMS binds it to
every other attribute of the item plus ``tablename`` = the logical key store name.

Concurrency (no acknowledged write is ever undone):

* ``create_key`` writes its three items in one transaction, each conditioned on the item
  not existing: two creators of one branch key id cannot mix their items; the loser gets
  `VersionAlreadyExistsError` and nothing of it is written.
* ``version_key`` writes the new version (condition: does not exist) and re-points ACTIVE
  (condition: ``enc`` still holds the ciphertext it read, the spec's 0.7.0 race fix) in one
  transaction: of two concurrent rotations exactly one wins; the loser's version is never
  written, and ACTIVE always names a version item that exists.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import (
    ConfigurationError,
    NoKnownVersionError,
    ProviderError,
    VersionAlreadyExistsError,
)
from ..structured._materials import BeaconKeyMaterials, BranchKeyMaterials
from ..structured._wrapping import DATA_KEY_LENGTH
from ._keysource import aws_call, error_code
from ._kms import is_kms_key_arn

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

__all__ = ["KeyStore"]

BRANCH_KEY_ID = "branch-key-id"
TYPE = "type"
ENC = "enc"
VERSION = "version"
CREATE_TIME = "create-time"
KMS_ARN = "kms-arn"
HIERARCHY_VERSION = "hierarchy-version"
TABLE_NAME = "tablename"
VERSION_PREFIX = "branch:version:"
ACTIVE_TYPE = "branch:ACTIVE"
BEACON_TYPE = "beacon:ACTIVE"
CUSTOM_EC_PREFIX = "aws-crypto-ec:"

_NOT_EXISTS = "attribute_not_exists(#bkid)"
_ACTIVE_UNCHANGED = "attribute_exists(#bkid) AND #enc = :encOld"


def _timestamp() -> str:
    """ISO 8601 UTC with microseconds, as AWS's key store writes ``create-time``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _to_item(context: Mapping[str, str], enc: bytes) -> dict[str, Any]:
    """A key-store item from its KMS encryption context (AWS's ``ToAttributeMap``)."""
    item: dict[str, Any] = {}
    for key, value in context.items():
        if key == TABLE_NAME:
            continue
        item[key] = {"N": value} if key == HIERARCHY_VERSION else {"S": value}
    item[ENC] = {"B": enc}
    return item


class KeyStore:
    """AWS's branch key store: a DynamoDB table of KMS-protected branch and beacon keys.

    Byte-compatible with the key store of AWS's Java/.NET/Rust DB-ESDK (hierarchy version 1):
    either side reads the other's keys given the same table, ``logical_key_store_name`` and
    KMS key. ``kms_key_id`` must be the KMS key's ARN (not an alias). The clients are boto3
    clients; every AWS failure becomes a `ProviderError` naming the AWS error code.

    Implements the ``BranchKeyStore`` protocol the `HierarchicalKeyring` reads from.
    """

    __slots__ = ("_ddb", "_grant_tokens", "_kms", "_kms_arn", "_logical_name", "_table")

    def __init__(
        self,
        *,
        table_name: str,
        logical_key_store_name: str,
        kms_key_id: str,
        dynamodb_client: DynamoDBClient | Any,
        kms_client: KMSClient | Any,
        grant_tokens: tuple[str, ...] = (),
    ) -> None:
        if not isinstance(table_name, str) or not 3 <= len(table_name) <= 255:
            raise ConfigurationError("table_name must be a DynamoDB table name")
        if not isinstance(logical_key_store_name, str) or not logical_key_store_name:
            raise ConfigurationError("logical_key_store_name must be a non-empty str")
        if not isinstance(kms_key_id, str) or not is_kms_key_arn(kms_key_id):
            raise ConfigurationError(
                "kms_key_id must be the ARN of a KMS key (arn:aws:kms:REGION:ACCOUNT:key/ID); "
                "the key store binds its items to the exact ARN, so aliases and bare ids "
                "are not accepted"
            )
        if dynamodb_client is None or kms_client is None:
            raise ConfigurationError("dynamodb_client and kms_client are required")
        self._table = table_name
        self._logical_name = logical_key_store_name
        self._kms_arn = kms_key_id
        self._ddb = dynamodb_client
        self._kms = kms_client
        self._grant_tokens = list(grant_tokens)

    def __repr__(self) -> str:
        return (
            f"KeyStore(table_name={self._table!r}, "
            f"logical_key_store_name={self._logical_name!r}, kms_key_id={self._kms_arn!r})"
        )

    @property
    def table_name(self) -> str:
        """The DynamoDB table holding the keys."""
        return self._table

    @property
    def logical_key_store_name(self) -> str:
        """The name KMS binds every key to (stays the same when the table is restored)."""
        return self._logical_name

    # ------------------------------------------------------------------ AWS calls

    def _ddb_call(self, operation: str, method: Any, **kwargs: Any) -> Any:
        return aws_call("DynamoDB", operation, lambda: method(**kwargs), table=self._table)

    def _kms_call(self, operation: str, method: Any, **kwargs: Any) -> Any:
        if self._grant_tokens:
            kwargs["GrantTokens"] = self._grant_tokens
        return aws_call(
            "AWS KMS",
            operation,
            lambda: method(**kwargs),
            table=self._table,
            material_name=self._kms_arn,
        )

    def _generate(self, context: Mapping[str, str]) -> bytes:
        response = self._kms_call(
            "GenerateDataKeyWithoutPlaintext",
            self._kms.generate_data_key_without_plaintext,
            KeyId=self._kms_arn,
            NumberOfBytes=DATA_KEY_LENGTH,
            EncryptionContext=dict(context),
        )
        return self._blob(response, "GenerateDataKeyWithoutPlaintext")

    def _reencrypt(
        self, blob: bytes, source: Mapping[str, str], destination: Mapping[str, str]
    ) -> bytes:
        response = self._kms_call(
            "ReEncrypt",
            self._kms.re_encrypt,
            CiphertextBlob=blob,
            SourceEncryptionContext=dict(source),
            SourceKeyId=self._kms_arn,
            DestinationKeyId=self._kms_arn,
            DestinationEncryptionContext=dict(destination),
        )
        return self._blob(response, "ReEncrypt")

    def _blob(self, response: Mapping[str, Any], operation: str) -> bytes:
        blob = response.get("CiphertextBlob")
        if not isinstance(blob, bytes) or not blob:
            raise ProviderError(f"AWS KMS {operation} returned no ciphertext", table=self._table)
        return blob

    # ------------------------------------------------------------------ table

    def create_key_store(self) -> str:
        """Create the key-store table if it does not exist; return its ARN.

        An existing table must have AWS's key schema (``branch-key-id`` HASH, ``type`` RANGE).
        The new table is on-demand (PAY_PER_REQUEST); this waits until it is ACTIVE.
        """
        from botocore.exceptions import ClientError

        try:
            table = self._ddb.describe_table(TableName=self._table)["Table"]
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise ProviderError(
                    f"DynamoDB DescribeTable failed ({error_code(exc)})", table=self._table
                ) from exc
            table = self._ddb_call(
                "CreateTable",
                self._ddb.create_table,
                TableName=self._table,
                KeySchema=[
                    {"AttributeName": BRANCH_KEY_ID, "KeyType": "HASH"},
                    {"AttributeName": TYPE, "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": BRANCH_KEY_ID, "AttributeType": "S"},
                    {"AttributeName": TYPE, "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )["TableDescription"]
            self._wait_active()
        schema = {k["AttributeName"]: k["KeyType"] for k in table.get("KeySchema", [])}
        if schema != {BRANCH_KEY_ID: "HASH", TYPE: "RANGE"}:
            raise ConfigurationError(
                "the key store table must have partition key 'branch-key-id' and sort key 'type'",
                table=self._table,
            )
        arn: str = table.get("TableArn", "")
        return arn

    def _wait_active(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            table = self._ddb_call(
                "DescribeTable", self._ddb.describe_table, TableName=self._table
            )["Table"]
            if table.get("TableStatus") == "ACTIVE":
                return
            if time.monotonic() > deadline:
                raise ProviderError("the key store table did not become ACTIVE", table=self._table)
            time.sleep(0.2)

    # ------------------------------------------------------------------ contexts

    def _decrypt_only_context(
        self, branch_key_id: str, version: str, timestamp: str, custom: Mapping[str, str]
    ) -> dict[str, str]:
        context = {
            BRANCH_KEY_ID: branch_key_id,
            TYPE: VERSION_PREFIX + version,
            CREATE_TIME: timestamp,
            TABLE_NAME: self._logical_name,
            KMS_ARN: self._kms_arn,
            HIERARCHY_VERSION: "1",
        }
        for key, value in custom.items():
            context[CUSTOM_EC_PREFIX + key] = value
        return context

    @staticmethod
    def _active_context(decrypt_only: Mapping[str, str]) -> dict[str, str]:
        return {**decrypt_only, VERSION: decrypt_only[TYPE], TYPE: ACTIVE_TYPE}

    @staticmethod
    def _beacon_context(decrypt_only: Mapping[str, str]) -> dict[str, str]:
        return {**decrypt_only, TYPE: BEACON_TYPE}

    def _put(self, item: dict[str, Any], condition: str, old_enc: bytes | None = None) -> Any:
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#bkid": BRANCH_KEY_ID},
        }
        if old_enc is not None:
            put["ExpressionAttributeNames"]["#enc"] = ENC
            put["ExpressionAttributeValues"] = {":encOld": {"B": old_enc}}
        return {"Put": put}

    def _transact(
        self,
        items: list[Any],
        *,
        ours: tuple[str, bytes],
        conflict: type[ProviderError],
        message: str,
    ) -> None:
        """One TransactWriteItems; ``ours`` = (branch key id, the ``enc`` written to ACTIVE).

        botocore retries with the same ClientRequestToken, which DynamoDB answers as the write
        already done. Where a retry still fails its conditions (a server without idempotency
        tokens), ACTIVE is read back: holding our own ciphertext means our write happened.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._ddb.transact_write_items(
                TransactItems=items, ClientRequestToken=str(uuid.uuid4())
            )
        except ClientError as exc:
            code = error_code(exc)
            if code != "TransactionCanceledException":
                raise ProviderError(
                    f"DynamoDB TransactWriteItems failed ({code})", table=self._table
                ) from exc
            reasons = exc.response.get("CancellationReasons") or []
            codes = {r.get("Code") for r in reasons if isinstance(r, Mapping)}
            if "ConditionalCheckFailed" in codes or not codes:
                if self._active_enc(ours[0]) == ours[1]:
                    return
                raise conflict(message, table=self._table) from exc
            # Another transaction on the same items was in flight (TransactionConflict): this
            # one was refused whole, so nothing was written and a retry is safe.
            raise ProviderError(
                "DynamoDB refused the key store write while another one was in progress "
                f"({', '.join(sorted(c for c in codes if c and c != 'None'))}); nothing "
                "was written",
                table=self._table,
            ) from exc
        except BotoCoreError as exc:
            # A lost connection: the transaction may or may not have been applied.
            raise ProviderError(
                f"DynamoDB TransactWriteItems failed ({type(exc).__name__})", table=self._table
            ) from exc

    def _active_enc(self, branch_key_id: str) -> bytes | None:
        response = self._ddb_call(
            "GetItem",
            self._ddb.get_item,
            TableName=self._table,
            Key={BRANCH_KEY_ID: {"S": branch_key_id}, TYPE: {"S": ACTIVE_TYPE}},
            ConsistentRead=True,
        )
        enc = (response.get("Item") or {}).get(ENC)
        value = enc.get("B") if isinstance(enc, Mapping) else None
        return value if isinstance(value, bytes) else None

    # ------------------------------------------------------------------ write operations

    def create_key(
        self,
        branch_key_id: str | None = None,
        *,
        encryption_context: Mapping[str, str] | None = None,
    ) -> str:
        """Create a branch key (first version, its ACTIVE copy, its beacon key); return its id.

        Without ``branch_key_id`` a random UUID is used. A chosen id needs an
        ``encryption_context`` (AWS's rule, so that chosen ids are bound to something): its
        entries are stored as ``aws-crypto-ec:<key>`` attributes and bound by KMS. Raises
        `VersionAlreadyExistsError` when the id already exists (nothing is overwritten).
        """
        custom = dict(encryption_context or {})
        if branch_key_id is not None:
            if not isinstance(branch_key_id, str) or not branch_key_id:
                raise ConfigurationError("branch_key_id must be a non-empty str")
            if not custom:
                raise ConfigurationError(
                    "a chosen branch_key_id needs an encryption_context (AWS's key store rule)"
                )
        for key, value in custom.items():
            if not isinstance(key, str) or not key or not isinstance(value, str):
                raise ConfigurationError("encryption_context must map non-empty str to str")
        key_id = branch_key_id if branch_key_id is not None else str(uuid.uuid4())
        version = str(uuid.uuid4())
        decrypt_only = self._decrypt_only_context(key_id, version, _timestamp(), custom)
        active = self._active_context(decrypt_only)
        beacon = self._beacon_context(decrypt_only)
        # Order as AWS's key store: version key, its ACTIVE copy (ReEncrypt), beacon key.
        wrapped_version = self._generate(decrypt_only)
        wrapped_active = self._reencrypt(wrapped_version, decrypt_only, active)
        wrapped_beacon = self._generate(beacon)
        self._transact(
            [
                self._put(_to_item(decrypt_only, wrapped_version), _NOT_EXISTS),
                self._put(_to_item(active, wrapped_active), _NOT_EXISTS),
                self._put(_to_item(beacon, wrapped_beacon), _NOT_EXISTS),
            ],
            ours=(key_id, wrapped_active),
            conflict=VersionAlreadyExistsError,
            message="the branch key id already exists in the key store; nothing was written",
        )
        return key_id

    def version_key(self, branch_key_id: str) -> str:
        """Rotate: create a new version of the branch key and make it ACTIVE; return it.

        Items written under earlier versions stay readable (the versions are kept). When
        another rotation of the same key wins the race this raises `ProviderError` and writes
        nothing; call again to rotate once more.
        """
        item = self._get(branch_key_id, ACTIVE_TYPE, consistent=True)
        context = self._context_of(item, branch_key_id, ACTIVE_TYPE)
        old_enc = item[ENC]["B"]
        # Authenticate the ACTIVE item before copying its attributes into the new version.
        self._reencrypt(old_enc, context, context)
        version = str(uuid.uuid4())
        decrypt_only = {k: v for k, v in context.items() if k != VERSION}
        decrypt_only[TYPE] = VERSION_PREFIX + version
        decrypt_only[CREATE_TIME] = _timestamp()
        active = self._active_context(decrypt_only)
        wrapped_version = self._generate(decrypt_only)
        wrapped_active = self._reencrypt(wrapped_version, decrypt_only, active)
        self._transact(
            [
                self._put(_to_item(decrypt_only, wrapped_version), _NOT_EXISTS),
                self._put(_to_item(active, wrapped_active), _ACTIVE_UNCHANGED, old_enc),
            ],
            ours=(branch_key_id, wrapped_active),
            conflict=ProviderError,
            message=(
                "the active branch key changed while it was being rotated (a concurrent "
                "rotation won); nothing was written"
            ),
        )
        return version

    # ------------------------------------------------------------------ reads

    def _get(self, branch_key_id: str, type_value: str, *, consistent: bool = False) -> Any:
        if not isinstance(branch_key_id, str) or not branch_key_id:
            raise ConfigurationError("branch_key_id must be a non-empty str")
        response = self._ddb_call(
            "GetItem",
            self._ddb.get_item,
            TableName=self._table,
            Key={BRANCH_KEY_ID: {"S": branch_key_id}, TYPE: {"S": type_value}},
            ConsistentRead=consistent,
        )
        item = response.get("Item")
        if not item:
            raise NoKnownVersionError(
                "the key store has no such branch key (or version)",
                table=self._table,
                material_name=branch_key_id,
            )
        return item

    def _context_of(
        self, item: Mapping[str, Any], branch_key_id: str, type_value: str
    ) -> dict[str, str]:
        """The KMS encryption context of an item; checks AWS's record format on the way."""

        def malformed(what: str) -> ProviderError:
            return ProviderError(
                f"malformed key store item: {what}", table=self._table, material_name=branch_key_id
            )

        context: dict[str, str] = {}
        for name, value in item.items():
            if name == ENC:
                if not isinstance(value, Mapping) or not isinstance(value.get("B"), bytes):
                    raise malformed("'enc' is not binary")
                continue
            if name == TABLE_NAME:
                raise malformed("an item attribute is named 'tablename'")
            if name == HIERARCHY_VERSION:
                number = value.get("N") if isinstance(value, Mapping) else None
                if not isinstance(number, str):
                    raise malformed("'hierarchy-version' is not a number")
                context[name] = number
                continue
            text = value.get("S") if isinstance(value, Mapping) else None
            if not isinstance(text, str):
                raise malformed(f"attribute {name!r} is not a string")
            context[name] = text
        for required in (BRANCH_KEY_ID, TYPE, ENC, CREATE_TIME, KMS_ARN, HIERARCHY_VERSION):
            if required not in item:
                raise malformed(f"{required!r} is missing")
        if context[BRANCH_KEY_ID] != branch_key_id or context[TYPE] != type_value:
            raise malformed("its key is not the one asked for")
        if context[HIERARCHY_VERSION] != "1":
            raise ProviderError(
                f"branch key hierarchy-version {context[HIERARCHY_VERSION]} is not supported "
                "(only 1)",
                table=self._table,
                material_name=branch_key_id,
            )
        has_version = VERSION in context
        if has_version != (type_value == ACTIVE_TYPE):
            raise malformed("'version' must be present exactly on the ACTIVE item")
        if has_version and not (
            context[VERSION].startswith(VERSION_PREFIX)
            and len(context[VERSION]) > len(VERSION_PREFIX)
        ):
            raise malformed("'version' is not a branch key version")
        if context[KMS_ARN] != self._kms_arn:
            raise ProviderError(
                "the key store item is protected by another KMS key than this KeyStore's",
                table=self._table,
                material_name=branch_key_id,
            )
        context[TABLE_NAME] = self._logical_name
        return context

    def _unwrap(self, item: Mapping[str, Any], context: Mapping[str, str]) -> bytes:
        response = self._kms_call(
            "Decrypt",
            self._kms.decrypt,
            KeyId=self._kms_arn,
            CiphertextBlob=item[ENC]["B"],
            EncryptionContext=dict(context),
        )
        answered = response.get("KeyId")
        if answered is not None and answered != self._kms_arn:
            raise ProviderError("AWS KMS Decrypt answered for another key", table=self._table)
        key = response.get("Plaintext")
        if not isinstance(key, bytes) or len(key) != DATA_KEY_LENGTH:
            raise ProviderError(
                "AWS KMS Decrypt returned a branch key of the wrong length", table=self._table
            )
        return key

    @staticmethod
    def _custom_context(context: Mapping[str, str]) -> dict[str, str]:
        return {
            k[len(CUSTOM_EC_PREFIX) :]: v
            for k, v in context.items()
            if k.startswith(CUSTOM_EC_PREFIX)
        }

    def _branch_materials(self, branch_key_id: str, type_value: str) -> BranchKeyMaterials:
        item = self._get(branch_key_id, type_value)
        context = self._context_of(item, branch_key_id, type_value)
        key = self._unwrap(item, context)
        version_field = context.get(VERSION, context[TYPE])
        return BranchKeyMaterials(
            branch_key_id=branch_key_id,
            branch_key_version=version_field[len(VERSION_PREFIX) :],
            branch_key=key,
            encryption_context=self._custom_context(context),
        )

    def get_active_branch_key(self, branch_key_id: str) -> BranchKeyMaterials:
        """The active version of ``branch_key_id``, unwrapped by KMS."""
        return self._branch_materials(branch_key_id, ACTIVE_TYPE)

    def get_branch_key_version(
        self, branch_key_id: str, branch_key_version: str
    ) -> BranchKeyMaterials:
        """Version ``branch_key_version`` (the UUID text) of ``branch_key_id``."""
        if not isinstance(branch_key_version, str) or not branch_key_version:
            raise ConfigurationError("branch_key_version must be a non-empty str")
        return self._branch_materials(branch_key_id, VERSION_PREFIX + branch_key_version)

    def get_beacon_key(self, branch_key_id: str) -> BeaconKeyMaterials:
        """The beacon key of ``branch_key_id`` (searchable encryption derives from it)."""
        item = self._get(branch_key_id, BEACON_TYPE)
        context = self._context_of(item, branch_key_id, BEACON_TYPE)
        return BeaconKeyMaterials(
            beacon_key_id=branch_key_id,
            beacon_key=self._unwrap(item, context),
            encryption_context=self._custom_context(context),
        )
