"""The meta store: versioned key material kept, encrypted, in a DynamoDB table.

Same table layout and item protection as the reference ``MetaStore`` (wire-format notes,
section 6.4), so both libraries can share one meta table:

- partition key ``N`` (S) = material name, sort key ``V`` (N) = version (integer >= 0);
- ``t`` = ``"0"``, ``encAlg`` = ``"AES"``, ``enc`` = AES key-encryption key, ``intAlg`` =
  ``"HmacSHA256"``, ``int`` = HMAC key;
- each item is itself a signed and encrypted item (``N``/``V`` SIGN_ONLY, the rest
  ENCRYPT_AND_SIGN) under the meta store's own materials provider, with the meta table's name
  as the table name.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    MaterialsProvider,
    SymmetricKey,
)
from ..core._md import MD_META_ID
from ..errors import (
    ConfigurationError,
    NoKnownVersionError,
    ProviderError,
    PynamoDBEncryptionError,
    VersionAlreadyExistsError,
)
from ._common import client_method, error_code, reference_names
from ._wrapped import WrappedMaterialsProvider

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["MetaStore", "check_material_name", "meta_id"]

PARTITION_KEY = "N"
SORT_KEY = "V"
ATTR_MATERIAL_TYPE = "t"
ATTR_ENCRYPTION_ALGORITHM = "encAlg"
ATTR_ENCRYPTION_KEY = "enc"
ATTR_INTEGRITY_ALGORITHM = "intAlg"
ATTR_INTEGRITY_KEY = "int"
MATERIAL_TYPE_VERSION = "0"
ENCRYPTION_ALGORITHM = "AES"
INTEGRITY_ALGORITHM = "HmacSHA256"
_KEY_BYTES = 32
_NOT_EXISTS = "attribute_not_exists(#n) AND attribute_not_exists(#v)"
_KEY_NAMES = {"#n": PARTITION_KEY, "#v": SORT_KEY}


def check_material_name(material_name: object) -> str:
    """A material name must be a non-empty string without ``#`` (``#`` ends the name in the
    stored ``amzn-ddb-meta-id``)."""
    if not isinstance(material_name, str) or not material_name:
        raise ConfigurationError("material_name must be a non-empty string")
    if "#" in material_name:
        raise ConfigurationError(
            "material_name must not contain '#': items store '<name>#<version>'",
            material_name=material_name,
        )
    return material_name


def meta_id(material_name: str, version: int) -> str:
    """The ``amzn-ddb-meta-id`` value of a material version: ``"<name>#<version>"``."""
    return f"{material_name}#{version}"


def _check_version(version: object) -> int:
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ConfigurationError("a material version must be an int >= 0")
    return version


class MetaStore:
    """Versioned key material for `MostRecentProvider`, in a DynamoDB table.

    Args:
        table_name: the meta table (create it with `create_table`).
        materials_provider: protects the meta items themselves (KMS, wrapped, static...).
        dynamodb_client: a boto3 DynamoDB (low-level) client; created on first use by default.
    """

    __slots__ = ("_client", "_client_lock", "_encryptor", "_provider", "_table_name")

    @reference_names(
        "MetaStore",
        {
            "table": "table_name='<meta table name>' and dynamodb_client=<boto3 DynamoDB "
            "client> (not a boto3 Table resource)",
            "tableName": "table_name=",
            "ddb": "dynamodb_client=",
            "client": "dynamodb_client=",
            "encryptor": "materials_provider= (the provider that protects the meta items)",
        },
        positional=1,
    )
    def __init__(
        self,
        *,
        table_name: str,
        materials_provider: MaterialsProvider,
        dynamodb_client: DynamoDBClient | None = None,
    ) -> None:
        if not isinstance(table_name, str) or not table_name:
            raise ConfigurationError("table_name must be a non-empty string")
        if not isinstance(materials_provider, MaterialsProvider):
            raise ConfigurationError(
                "materials_provider must have encryption_materials() and decryption_materials()"
            )
        self._table_name = table_name
        self._provider = materials_provider
        self._client: Any = dynamodb_client
        self._client_lock = threading.Lock()
        # N and V are lowered to SIGN_ONLY as index keys; everything else is encrypted.
        self._encryptor = ItemEncryptor(
            table_name=table_name,
            partition_key_name=PARTITION_KEY,
            sort_key_name=SORT_KEY,
            attribute_actions=AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
            materials_provider=materials_provider,
        )

    def __repr__(self) -> str:
        return (
            f"MetaStore(table_name={self._table_name!r}, "
            f"materials_provider={type(self._provider).__name__})"
        )

    @property
    def table_name(self) -> str:
        return self._table_name

    # -- table ------------------------------------------------------------------------

    @staticmethod
    @reference_names(
        "MetaStore.create_table",
        {
            "client": "dynamodb_client=",
            "ddb": "dynamodb_client=",
            "tableName": "table_name=",
            "read_units": "read_capacity=",
            "write_units": "write_capacity=",
        },
        positional=2,
    )
    def create_table(
        dynamodb_client: DynamoDBClient,
        table_name: str,
        *,
        read_capacity: int | None = None,
        write_capacity: int | None = None,
        timeout_seconds: float = 300.0,
    ) -> None:
        """Create a meta table (``N`` S HASH, ``V`` N RANGE) and wait until it is ACTIVE.

        On-demand billing unless both capacities are given (then provisioned).

        Raises:
            ProviderError: the table could not be created, or did not become ACTIVE in time.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        if (read_capacity is None) != (write_capacity is None):
            raise ConfigurationError("give both read_capacity and write_capacity, or neither")
        params: dict[str, Any] = {
            "TableName": table_name,
            "KeySchema": [
                {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": SORT_KEY, "AttributeType": "N"},
            ],
        }
        if read_capacity is None:
            params["BillingMode"] = "PAY_PER_REQUEST"
        else:
            params["ProvisionedThroughput"] = {
                "ReadCapacityUnits": read_capacity,
                "WriteCapacityUnits": write_capacity,
            }
        try:
            dynamodb_client.create_table(**params)
            deadline = time.monotonic() + timeout_seconds
            delay = 0.05
            while True:
                table = dynamodb_client.describe_table(TableName=table_name)["Table"]
                if table.get("TableStatus") == "ACTIVE":
                    return
                if time.monotonic() > deadline:
                    raise ProviderError(
                        f"the meta table is not ACTIVE after {timeout_seconds:g} s",
                        table=table_name,
                    )
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        except (ClientError, BotoCoreError) as exc:
            raise ProviderError(
                f"could not create the meta table ({error_code(exc)})", table=table_name
            ) from exc

    def _ddb(self) -> Any:
        client = self._client
        if client is not None:
            return client
        with self._client_lock:
            if self._client is None:
                try:
                    import boto3

                    self._client = boto3.client("dynamodb")
                except Exception as exc:
                    raise ProviderError("could not create a boto3 DynamoDB client") from exc
            return self._client

    def _call(self, operation: str, material_name: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        method = client_method(
            self._ddb(), operation, "dynamodb_client must be a boto3 DynamoDB client"
        )
        try:
            return method(TableName=self._table_name, **params)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise
            raise ProviderError(
                f"meta store {operation} failed ({error_code(exc)})",
                table=self._table_name,
                material_name=material_name,
            ) from exc
        except BotoCoreError as exc:
            raise ProviderError(
                f"meta store {operation} failed ({type(exc).__name__})",
                table=self._table_name,
                material_name=material_name,
            ) from exc

    # -- versions ---------------------------------------------------------------------

    def max_version(self, material_name: str) -> int:
        """The highest stored version of ``material_name`` (consistent read).

        Raises:
            NoKnownVersionError: the material has no version yet.
        """
        name = check_material_name(material_name)
        response = self._call(
            "query",
            name,
            KeyConditionExpression="#n = :n",
            ExpressionAttributeNames={"#n": PARTITION_KEY, "#v": SORT_KEY},
            ExpressionAttributeValues={":n": {"S": name}},
            ProjectionExpression="#v",
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items") or []
        if not items:
            raise NoKnownVersionError(
                "the meta store holds no version of this material",
                table=self._table_name,
                material_name=name,
            )
        return self._version_of(items[0], name)

    def versions(self, material_name: str) -> list[int]:
        """Every stored version of ``material_name``, ascending (empty if none)."""
        name = check_material_name(material_name)
        found: list[int] = []
        params: dict[str, Any] = {
            "KeyConditionExpression": "#n = :n",
            "ExpressionAttributeNames": {"#n": PARTITION_KEY, "#v": SORT_KEY},
            "ExpressionAttributeValues": {":n": {"S": name}},
            "ProjectionExpression": "#v",
            "ConsistentRead": True,
        }
        while True:
            response = self._call("query", name, **params)
            found.extend(self._version_of(item, name) for item in response.get("Items") or [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return sorted(found)
            params["ExclusiveStartKey"] = last

    def _version_of(self, item: Mapping[str, Any], name: str) -> int:
        try:
            return int(item[SORT_KEY]["N"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(
                "a meta item has no valid version", table=self._table_name, material_name=name
            ) from exc

    def new_version(self, material_name: str) -> int:
        """Create the next version (highest + 1, or 0 for a new material) with fresh keys.

        Raises:
            VersionAlreadyExistsError: another writer created that version first.
        """
        name = check_material_name(material_name)
        try:
            version = self.max_version(name) + 1
        except NoKnownVersionError:
            version = 0
        self._put_new(name, version, _fresh_keys())
        return version

    def _put_new(self, name: str, version: int, keys: tuple[bytes, bytes]) -> None:
        from botocore.exceptions import ClientError

        enc, mac = keys
        plain = {
            PARTITION_KEY: {"S": name},
            SORT_KEY: {"N": str(version)},
            ATTR_MATERIAL_TYPE: {"S": MATERIAL_TYPE_VERSION},
            ATTR_ENCRYPTION_ALGORITHM: {"S": ENCRYPTION_ALGORITHM},
            ATTR_ENCRYPTION_KEY: {"B": enc},
            ATTR_INTEGRITY_ALGORITHM: {"S": INTEGRITY_ALGORITHM},
            ATTR_INTEGRITY_KEY: {"B": mac},
        }
        item = self._encryptor.encrypt(plain)
        try:
            self._call(
                "put_item",
                name,
                Item=item,
                ConditionExpression=_NOT_EXISTS,
                ExpressionAttributeNames=_KEY_NAMES,
            )
        except ClientError as exc:  # only ConditionalCheckFailedException gets here
            raise VersionAlreadyExistsError(
                f"version {version} already exists",
                table=self._table_name,
                material_name=name,
            ) from exc

    # -- providers --------------------------------------------------------------------

    def provider(self, material_name: str, version: int) -> WrappedMaterialsProvider:
        """The materials provider of a stored version (never creates one).

        Raises:
            NoKnownVersionError: that version does not exist.
        """
        name = check_material_name(material_name)
        version = _check_version(version)
        return self._provider_from_keys(name, version, self._load(name, version))

    def get_or_create_provider(self, material_name: str, version: int) -> WrappedMaterialsProvider:
        """The provider of ``version``, creating it with fresh keys if it does not exist.

        Used for version 0 on the first encryption; if another writer creates the version
        at the same time, its keys are read back and used.
        """
        name = check_material_name(material_name)
        version = _check_version(version)
        enc, mac = _fresh_keys()
        keys = (SymmetricKey(enc, ENCRYPTION_ALGORITHM), SymmetricKey(mac, INTEGRITY_ALGORITHM))
        try:
            self._put_new(name, version, (enc, mac))
        except VersionAlreadyExistsError:
            keys = self._load(name, version)
        return self._provider_from_keys(name, version, keys)

    def _provider_from_keys(
        self, name: str, version: int, keys: tuple[SymmetricKey, SymmetricKey]
    ) -> WrappedMaterialsProvider:
        wrapping, signing = keys
        try:
            return WrappedMaterialsProvider(
                wrapping_key=wrapping,
                unwrapping_key=wrapping,
                signing_key=signing,
                material_description={MD_META_ID: meta_id(name, version)},
            )
        except ConfigurationError as exc:
            raise ProviderError(
                f"the meta item of version {version} holds unusable keys",
                table=self._table_name,
                material_name=name,
            ) from exc

    def _load(self, name: str, version: int) -> tuple[SymmetricKey, SymmetricKey]:
        response = self._call(
            "get_item",
            name,
            Key={PARTITION_KEY: {"S": name}, SORT_KEY: {"N": str(version)}},
            ConsistentRead=True,
        )
        stored = response.get("Item")
        if not stored:
            raise NoKnownVersionError(
                f"version {version} does not exist", table=self._table_name, material_name=name
            )
        try:
            item = self._encryptor.decrypt(stored)
        except PynamoDBEncryptionError as exc:
            raise ProviderError(
                f"the meta item of version {version} could not be verified or decrypted",
                table=self._table_name,
                material_name=name,
            ) from exc
        try:
            material_type = item[ATTR_MATERIAL_TYPE]["S"]
            enc_algorithm = item[ATTR_ENCRYPTION_ALGORITHM]["S"]
            enc = item[ATTR_ENCRYPTION_KEY]["B"]
            mac_algorithm = item[ATTR_INTEGRITY_ALGORITHM]["S"]
            mac = item[ATTR_INTEGRITY_KEY]["B"]
        except (KeyError, TypeError) as exc:
            raise ProviderError(
                f"the meta item of version {version} is malformed",
                table=self._table_name,
                material_name=name,
            ) from exc
        if material_type != MATERIAL_TYPE_VERSION:
            raise ProviderError(
                f"unsupported material type in version {version}",
                table=self._table_name,
                material_name=name,
            )
        try:
            return SymmetricKey(bytes(enc), enc_algorithm), SymmetricKey(bytes(mac), mac_algorithm)
        except ConfigurationError as exc:
            raise ProviderError(
                f"the meta item of version {version} holds unusable keys",
                table=self._table_name,
                material_name=name,
            ) from exc


def _fresh_keys() -> tuple[bytes, bytes]:
    return os.urandom(_KEY_BYTES), os.urandom(_KEY_BYTES)
