"""The request/response transformations shared by the three boto3 helpers.

Each operation follows the same steps: take the per-call options out of the keyword arguments,
refuse anything encryption cannot protect (before any request is sent), encrypt what is
written, call the caller's boto3 method, and decrypt what comes back. The caller's arguments
are never modified: the request sent is a new structure.

Two item shapes exist: DynamoDB JSON (low-level client) and plain Python values (boto3's
resource layer, ``Table`` and ``table.meta.client``). The resource shape converts with boto3's
own ``TypeSerializer``/``TypeDeserializer``, so what comes back is exactly what a plain boto3
``Table`` returns (``Decimal``, ``Binary``, ``set``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .. import _telemetry
from ..core import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    ItemEncryptorProtocol,
    MaterialsProvider,
)
from ..core._codec import CodecError, serialize
from ..core._encryptor import check_configuration
from ..errors import (
    ConfigurationError,
    DecryptionError,
    EncryptionError,
    PynamoDBEncryptionError,
    UnsupportedOperationError,
)
from ..structured import (
    BeaconItemEncryptor,
    DynamoDbTablesEncryptionConfig,
    beacon_table_schema,
)
from ._beacons import beacon_request, beacons_of
from ._expressions import condition_to_text, expression_names
from ._table_info import TableInfoCache

__all__ = ["ActionView", "CallOptions", "Engine", "ItemShape", "Operations", "DDB_JSON", "RESOURCE"]

_ENCRYPT = CryptoAction.ENCRYPT_AND_SIGN
_NOTHING = CryptoAction.DO_NOTHING
_RESERVED = frozenset((SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE))
_PROJECTING_SELECTS = frozenset(("SPECIFIC_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"))
_FULL_ITEM_RETURN_VALUES = frozenset(("ALL_OLD", "ALL_NEW"))
_ENCRYPTOR_CACHE_SIZE = 256


# ----------------------------------------------------------------------------------------
# What the checks need to know of an item encryptor, whatever its format


@dataclass(frozen=True, slots=True)
class ActionView:
    """The actions, reserved and marker attributes of an item encryptor (any format, through
    the item-encryptor protocol), or of bare legacy `AttributeActions` before a table's keys
    are known."""

    action: Callable[[str], CryptoAction]
    reserved: frozenset[str]
    markers: tuple[str, ...]
    take_no_actions: bool = False
    #: DB-ESDK configurations refuse the legacy request parameters (as AWS's DB-ESDK does).
    refuses_legacy_parameters: bool = False

    @classmethod
    def of(cls, encryptor: ItemEncryptorProtocol) -> ActionView:
        if isinstance(encryptor, ItemEncryptor):
            return cls.legacy(encryptor.attribute_actions)
        return cls(
            encryptor.action,
            encryptor.reserved_attributes,
            encryptor.marker_attributes,
            refuses_legacy_parameters=True,
        )

    @classmethod
    def legacy(cls, actions: AttributeActions) -> ActionView:
        return cls(actions.action, _RESERVED, (SIGNATURE_ATTRIBUTE,), actions.take_no_actions)


_LEGACY_PARAMETERS = (
    "Expected",
    "AttributeUpdates",
    "ScanFilter",
    "QueryFilter",
    "KeyConditions",
    "ConditionalOperator",
    "AttributesToGet",
)


def check_legacy_parameters(kwargs: Mapping[str, Any], view: ActionView, *, table: str) -> None:
    """DB-ESDK configurations refuse DynamoDB's legacy parameters, as AWS's DB-ESDK does."""
    if not view.refuses_legacy_parameters:
        return
    for param in _LEGACY_PARAMETERS:
        if kwargs.get(param) is not None:
            raise UnsupportedOperationError(
                f"{param} is one of DynamoDB's legacy parameters, which a DB-ESDK table "
                "configuration refuses: use the expression parameters",
                table=table,
            )


# ----------------------------------------------------------------------------------------
# Item shapes


class ItemShape:
    """How items look on the caller's side of a helper."""

    __slots__ = ()
    resource_style = False

    def to_ddb(self, item: Mapping[str, Any], *, table: str | None) -> dict[str, Any]:
        """A caller-side item as DynamoDB JSON (a new dict)."""
        if not isinstance(item, Mapping):
            raise EncryptionError("an item must be a mapping of attribute names", table=table)
        return dict(item)

    def from_ddb(self, item: dict[str, Any]) -> dict[str, Any]:
        """A DynamoDB-JSON item in the caller's shape (may reuse ``item``)."""
        return item


class _ResourceShape(ItemShape):
    __slots__ = ()
    resource_style = True

    def to_ddb(self, item: Mapping[str, Any], *, table: str | None) -> dict[str, Any]:
        from boto3.dynamodb.types import TypeSerializer

        if not isinstance(item, Mapping):
            raise EncryptionError("an item must be a mapping of attribute names", table=table)
        serializer = TypeSerializer()
        out: dict[str, Any] = {}
        for name, value in item.items():
            try:
                out[name] = serializer.serialize(value)
                continue
            except (TypeError, ValueError, ArithmeticError) as exc:
                cause = type(exc).__name__
            except RecursionError:
                # boto3's serializer recurses without a bound; DynamoDB allows 32 levels.
                cause = "nested far deeper than DynamoDB's 32 levels"
            # Raised outside the except block, with no cause or context: boto3's message (and
            # so the chained exception) quotes the value, which may be plaintext.
            raise EncryptionError(
                f"cannot convert a {type(value).__name__} value to DynamoDB (floats must be "
                f"Decimal, sets must not be empty; {cause})",
                attribute=name,
                table=table,
            )
        return out

    def from_ddb(self, item: dict[str, Any]) -> dict[str, Any]:
        from boto3.dynamodb.types import TypeDeserializer

        deserializer = TypeDeserializer()
        return {name: deserializer.deserialize(value) for name, value in item.items()}


DDB_JSON = ItemShape()
RESOURCE: ItemShape = _ResourceShape()


# ----------------------------------------------------------------------------------------
# Per-call options


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Per-call overrides taken out of an operation's keyword arguments.

    ``item_encryptor`` replaces the whole configuration for this call (the reference's
    ``crypto_config``): its table name, key names, actions and provider are used as they are.
    ``attribute_actions`` keeps the helper's provider and the table's keys.
    """

    item_encryptor: ItemEncryptorProtocol | None = None
    attribute_actions: AttributeActions | None = None

    @classmethod
    def pop(cls, kwargs: dict[str, Any]) -> CallOptions:
        if "crypto_config" in kwargs:
            raise ConfigurationError(
                "crypto_config is the reference library's per-call override: pass "
                "item_encryptor=ItemEncryptor(...) (or attribute_actions=...) instead"
            )
        encryptor = kwargs.pop("item_encryptor", None)
        actions = kwargs.pop("attribute_actions", None)
        if encryptor is not None and not isinstance(encryptor, ItemEncryptorProtocol):
            raise ConfigurationError(
                "item_encryptor must be an item encryptor (ItemEncryptor, DbEsdkItemEncryptor "
                "or MigratingItemEncryptor)"
            )
        if actions is not None and not isinstance(actions, AttributeActions):
            raise ConfigurationError("attribute_actions must be an AttributeActions")
        if encryptor is not None and actions is not None:
            raise ConfigurationError("pass item_encryptor or attribute_actions, not both")
        return cls(item_encryptor=encryptor, attribute_actions=actions)


# ----------------------------------------------------------------------------------------
# Engine: configuration, table keys, cached item encryptors


class Engine:
    """A helper's configuration and caches, shared by the objects a helper hands out.

    ``ItemEncryptor`` objects are built once per (table, actions) and reused.
    """

    __slots__ = (
        "_actions",
        "_dbe_encryptors",
        "_encryptors",
        "_lock",
        "_provider",
        "encryption_config",
        "table_infos",
    )

    def __init__(
        self,
        *,
        materials_provider: MaterialsProvider | None,
        attribute_actions: AttributeActions | None,
        table_infos: TableInfoCache,
        encryption_config: DynamoDbTablesEncryptionConfig | None = None,
    ) -> None:
        if attribute_actions is None:
            attribute_actions = AttributeActions()
        self.encryption_config = encryption_config
        self._dbe_encryptors: dict[str, ItemEncryptorProtocol] = {}
        if encryption_config is not None:
            if not isinstance(encryption_config, DynamoDbTablesEncryptionConfig):
                raise ConfigurationError(
                    "encryption_config must be a DynamoDbTablesEncryptionConfig"
                )
            if materials_provider is not None:
                raise ConfigurationError(
                    "pass materials_provider (legacy format) or encryption_config (DB-ESDK), "
                    "not both: a DB-ESDK table reads legacy items through its legacy_override"
                )
            # Built (and checked) once, up front: the configuration names every key.
            self._dbe_encryptors.update(encryption_config.item_encryptors())
        elif materials_provider is None:
            raise ConfigurationError(
                "a materials_provider (legacy format) or an encryption_config (DB-ESDK) is required"
            )
        else:
            # The same checks as every ItemEncryptor this engine builds, made once up front.
            check_configuration(attribute_actions, materials_provider)
        self._provider = materials_provider
        self._actions = attribute_actions
        self.table_infos = table_infos
        self._encryptors: OrderedDict[tuple[str, AttributeActions], ItemEncryptor] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def materials_provider(self) -> MaterialsProvider | None:
        return self._provider

    @property
    def attribute_actions(self) -> AttributeActions:
        return self._actions

    def base_actions(self, options: CallOptions, table_name: str | None = None) -> ActionView:
        """The actions before key lowering (enough to tell what is signed: lowering keys never
        turns a signed attribute into an unsigned one). A DB-ESDK table's own encryptor."""
        if options.item_encryptor is not None:
            return ActionView.of(options.item_encryptor)
        if self.encryption_config is not None and table_name is not None:
            return ActionView.of(self._dbe_encryptor(table_name, options))
        return ActionView.legacy(options.attribute_actions or self._actions)

    def _dbe_encryptor(self, table_name: str, options: CallOptions) -> ItemEncryptorProtocol:
        if options.attribute_actions is not None:
            raise ConfigurationError(
                "attribute_actions= is a legacy per-call override: with a DB-ESDK "
                "configuration pass item_encryptor= instead",
                table=table_name,
            )
        encryptor = self._dbe_encryptors.get(table_name)
        if encryptor is None:
            # Fail closed: an unconfigured table is never written or read in plaintext.
            raise ConfigurationError(
                "the table has no DynamoDbTableEncryptionConfig in this helper's encryption_config",
                table=table_name,
            )
        return encryptor

    def encryptor(self, table_name: str, options: CallOptions) -> ItemEncryptorProtocol:
        """The item encryptor for ``table_name`` (may call DescribeTable the first time)."""
        if options.item_encryptor is not None:
            return options.item_encryptor
        if self.encryption_config is not None:
            return self._dbe_encryptor(table_name, options)
        actions = options.attribute_actions or self._actions
        cache_key = (table_name, actions)
        with self._lock:
            cached = self._encryptors.get(cache_key)
            if cached is not None:
                self._encryptors.move_to_end(cache_key)
                return cached
        info = self.table_infos.get(table_name)
        # Every index key (primary and secondary) stays readable by DynamoDB.
        effective = actions.with_index_keys(sorted(info.index_key_names))
        assert self._provider is not None
        encryptor = ItemEncryptor(
            table_name=table_name,
            partition_key_name=info.partition_key_name,
            sort_key_name=info.sort_key_name,
            attribute_actions=effective,
            materials_provider=self._provider,
        )
        with self._lock:
            self._encryptors[cache_key] = encryptor
            while len(self._encryptors) > _ENCRYPTOR_CACHE_SIZE:
                self._encryptors.popitem(last=False)
        return encryptor


# ----------------------------------------------------------------------------------------
# Checks (all raise before anything is sent)


def _table_name(kwargs: Mapping[str, Any], where: str = "request") -> str:
    name = kwargs.get("TableName")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"the {where} has no TableName")
    return name


def _expression_text(
    value: Any, kwargs: Mapping[str, Any], shape: ItemShape, *, param: str, table: str
) -> tuple[str, Mapping[str, str] | None]:
    if isinstance(value, str):
        return value, kwargs.get("ExpressionAttributeNames")
    if shape.resource_style:
        from boto3.dynamodb.conditions import ConditionBase

        if isinstance(value, ConditionBase):
            return condition_to_text(value, is_key_condition=param == "KeyConditionExpression")
    raise UnsupportedOperationError(
        f"{param} must be a string (or a boto3 condition object on resource-style helpers)",
        table=table,
    )


def check_conditions(
    kwargs: Mapping[str, Any],
    actions: ActionView,
    shape: ItemShape,
    *,
    table: str,
    params: tuple[str, ...] = ("ConditionExpression",),
    legacy: tuple[str, ...] = ("Expected",),
) -> None:
    """Refuse conditions and filters that name an encrypted attribute.

    DynamoDB would evaluate them against ciphertext: they would silently never (or always)
    match.
    """
    if actions.take_no_actions:
        return
    check_legacy_parameters(kwargs, actions, table=table)
    reserved = actions.reserved
    for param in params:
        value = kwargs.get(param)
        if value is None:
            continue
        text, names = _expression_text(value, kwargs, shape, param=param, table=table)
        for name in sorted(expression_names(text, names, table=table, param=param)):
            if actions.action(name) is _ENCRYPT and name not in reserved:
                raise UnsupportedOperationError(
                    f"{param} refers to an encrypted attribute: DynamoDB only sees its "
                    "ciphertext, so the comparison would be meaningless",
                    attribute=name,
                    table=table,
                )
    for param in legacy:
        value = kwargs.get(param)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise UnsupportedOperationError(f"{param} must be a mapping", table=table)
        for name in sorted(value):
            if actions.action(name) is _ENCRYPT and name not in reserved:
                raise UnsupportedOperationError(
                    f"{param} refers to an encrypted attribute: DynamoDB only sees its "
                    "ciphertext, so the comparison would be meaningless",
                    attribute=name,
                    table=table,
                )


def check_projection(kwargs: Mapping[str, Any], actions: ActionView, *, table: str) -> None:
    """Refuse reads that return part of an item: its signature could not be verified."""
    if actions.take_no_actions:
        return
    check_legacy_parameters(kwargs, actions, table=table)
    for param in ("ProjectionExpression", "AttributesToGet"):
        if kwargs.get(param) is not None:
            raise UnsupportedOperationError(
                f"{param} returns part of a signed item, whose signature then cannot be "
                "verified; read whole items",
                table=table,
            )
    select = kwargs.get("Select")
    if isinstance(select, str) and select in _PROJECTING_SELECTS:
        raise UnsupportedOperationError(
            f"Select={kwargs['Select']} returns part of a signed item, whose signature then "
            "cannot be verified; read whole items (Select=COUNT is fine)",
            table=table,
        )


def check_update(
    kwargs: Mapping[str, Any], actions: ActionView, shape: ItemShape, *, table: str
) -> None:
    """Refuse updates that touch (or read) a signed or encrypted attribute.

    An update is applied by DynamoDB to the stored item: changing a signed attribute breaks the
    signature, and an encrypted value cannot be computed on. Only DO_NOTHING attributes may
    appear in the update itself; conditions follow `check_conditions`.
    """
    if actions.take_no_actions:
        return
    check_legacy_parameters(kwargs, actions, table=table)
    touched: set[str] = set()
    expression = kwargs.get("UpdateExpression")
    if expression is not None:
        if not isinstance(expression, str):
            raise UnsupportedOperationError("UpdateExpression must be a string", table=table)
        touched |= expression_names(
            expression,
            kwargs.get("ExpressionAttributeNames"),
            table=table,
            param="UpdateExpression",
        )
    legacy = kwargs.get("AttributeUpdates")
    if legacy is not None:
        if not isinstance(legacy, Mapping):
            raise UnsupportedOperationError("AttributeUpdates must be a mapping", table=table)
        touched |= set(legacy)
    for name in sorted(touched):
        if name in actions.reserved or actions.action(name) is not _NOTHING:
            raise UnsupportedOperationError(
                "update_item may only touch DO_NOTHING attributes: DynamoDB would change a "
                "signed or encrypted value without re-signing the item; read, change and "
                "put_item the whole item instead",
                attribute=name,
                table=table,
            )
    check_conditions(kwargs, actions, shape, table=table)


_SIGNATURE_PLACEHOLDER = "#pde_signature"


def guard_signed(
    kwargs: Mapping[str, Any], actions: ActionView, shape: ItemShape, *, table: str
) -> dict[str, Any]:
    """The update request with a condition that the item exists and is signed.

    An UpdateItem on a missing key creates the item, unsigned: the helpers then refuse to read
    it (no signature). As ``EncryptedModel.update()``, refuse instead: the update fails with
    ``ConditionalCheckFailedException`` when the item is missing (create items with
    ``put_item``).
    """
    request = dict(kwargs)
    markers = actions.markers
    if actions.take_no_actions or not markers:
        return request
    if "AttributeUpdates" in request or "Expected" in request:
        # Legacy parameters cannot be mixed with ConditionExpression.
        if request.get("ConditionalOperator") == "OR":
            raise UnsupportedOperationError(
                "update_item with Expected and ConditionalOperator=OR cannot be guarded "
                "against creating an unsigned item: use ConditionExpression",
                table=table,
            )
        expected = dict(request.get("Expected") or {})
        # Only the legacy configuration gets here (DB-ESDK refuses these parameters).
        expected[markers[0]] = {"ComparisonOperator": "NOT_NULL"}
        request["Expected"] = expected
        return request
    existing = request.get("ConditionExpression")
    if shape.resource_style and existing is not None and not isinstance(existing, str):
        from boto3.dynamodb.conditions import Attr

        exists: Any = Attr(markers[0]).exists()
        for marker in markers[1:]:
            exists = exists | Attr(marker).exists()
        request["ConditionExpression"] = exists & existing
        return request
    given_names = request.get("ExpressionAttributeNames") or {}
    if not isinstance(given_names, Mapping):
        raise ConfigurationError(
            "ExpressionAttributeNames must map placeholders to attribute names", table=table
        )
    names = dict(given_names)
    clauses = []
    for position, marker in enumerate(markers):
        # The legacy placeholder keeps its historical name; DB-ESDK markers get numbered ones.
        placeholder = (
            _SIGNATURE_PLACEHOLDER if position == 0 else f"{_SIGNATURE_PLACEHOLDER}{position}"
        )
        if names.get(placeholder, marker) != marker:
            raise UnsupportedOperationError(
                f"ExpressionAttributeNames uses {placeholder}, which the helpers reserve",
                table=table,
            )
        names[placeholder] = marker
        clauses.append(f"attribute_exists({placeholder})")
    request["ExpressionAttributeNames"] = names
    clause = clauses[0] if len(clauses) == 1 else "(" + " OR ".join(clauses) + ")"
    request["ConditionExpression"] = f"{clause} AND ({existing})" if existing else clause
    return request


# ----------------------------------------------------------------------------------------
# Matching unprocessed writes back to the plaintext request


def _fingerprint(item: Mapping[str, Any], actions: ActionView) -> tuple[Any, ...]:
    """Identifies a written item by the attributes stored as they are (never encrypted)."""
    parts: list[tuple[str, Any]] = []
    for name in sorted(item):
        if name in actions.reserved or actions.action(name) is _ENCRYPT:
            continue
        try:
            parts.append((name, serialize(item[name])))
        except CodecError:
            parts.append((name, repr(item[name])))
    return tuple(parts)


# ----------------------------------------------------------------------------------------
# Operations


class Operations:
    """Every protected operation, for one engine and one item shape.

    ``send`` arguments are the caller's boto3 methods; the operation calls it once with the
    transformed request.
    """

    __slots__ = ("engine", "shape")

    def __init__(self, engine: Engine, shape: ItemShape) -> None:
        self.engine = engine
        self.shape = shape

    # -- item conversions ---------------------------------------------------------------

    def encrypt(self, encryptor: ItemEncryptorProtocol, item: Any, table: str) -> dict[str, Any]:
        ddb = self.shape.to_ddb(item, table=table)
        return self.shape.from_ddb(_telemetry.encrypt(encryptor, ddb))

    def decrypt(self, encryptor: ItemEncryptorProtocol, item: Any, table: str) -> dict[str, Any]:
        try:
            ddb = self.shape.to_ddb(item, table=table)
        except EncryptionError as exc:
            raise DecryptionError(exc.message, attribute=exc.attribute, table=table) from exc
        return self.shape.from_ddb(_telemetry.decrypt(encryptor, ddb))

    def _decrypt_error_items(
        self, exc: ClientError, encryptors: Callable[[int | None], ItemEncryptorProtocol | None]
    ) -> None:
        """Turn the item a failed condition returns (``ReturnValuesOnConditionCheckFailure``)
        into plaintext. Error responses are never transformed by boto3's resource layer, so
        these items are DynamoDB JSON in both shapes. An item that does not verify is removed
        rather than returned unverified."""
        response: Any = exc.response
        if not isinstance(response, dict):
            return
        targets: list[tuple[dict[str, Any], ItemEncryptorProtocol | None]] = []
        if isinstance(response.get("Item"), dict):
            targets.append((response, encryptors(None)))
        reasons = response.get("CancellationReasons")
        if isinstance(reasons, list):
            for position, reason in enumerate(reasons):
                if isinstance(reason, dict) and isinstance(reason.get("Item"), dict):
                    targets.append((reason, encryptors(position)))
        for holder, encryptor in targets:
            if encryptor is None:
                holder.pop("Item", None)
                continue
            try:
                holder["Item"] = _telemetry.decrypt(encryptor, holder["Item"])
            except PynamoDBEncryptionError:
                holder.pop("Item", None)

    def _send_write(
        self,
        send: Callable[..., Any],
        request: dict[str, Any],
        encryptors: Callable[[int | None], ItemEncryptorProtocol | None],
    ) -> Any:
        try:
            return send(**request)
        except ClientError as exc:
            self._decrypt_error_items(exc, encryptors)
            raise

    def _decrypt_return_values(
        self,
        response: Any,
        request: Mapping[str, Any],
        encryptor: ItemEncryptorProtocol,
        table: str,
    ) -> Any:
        if (
            isinstance(response, dict)
            and request.get("ReturnValues") in _FULL_ITEM_RETURN_VALUES
            and response.get("Attributes")
        ):
            response["Attributes"] = self.decrypt(encryptor, response["Attributes"], table)
        return response

    # -- single-item writes -------------------------------------------------------------

    def put_item(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        table = _table_name(request)
        if "Item" not in request:
            raise ConfigurationError("put_item needs an Item", table=table)
        encryptor = self.engine.encryptor(table, options)
        check_conditions(request, ActionView.of(encryptor), self.shape, table=table)
        request["Item"] = self.encrypt(encryptor, request["Item"], table)
        response = self._send_write(send, request, lambda _: encryptor)
        return self._decrypt_return_values(response, request, encryptor, table)

    def delete_item(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        table = _table_name(request)
        encryptor = self.engine.encryptor(table, options)
        check_conditions(request, ActionView.of(encryptor), self.shape, table=table)
        request = guard_signed(request, ActionView.of(encryptor), self.shape, table=table)
        response = self._send_write(send, request, lambda _: encryptor)
        return self._decrypt_return_values(response, request, encryptor, table)

    def update_item(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        table = _table_name(request)
        # Checked with the actions before key lowering, so a refused update never needs the
        # table's keys (no DescribeTable before refusing).
        check_update(request, self.engine.base_actions(options, table), self.shape, table=table)
        encryptor = self.engine.encryptor(table, options)
        check_conditions(request, ActionView.of(encryptor), self.shape, table=table)
        request = guard_signed(request, ActionView.of(encryptor), self.shape, table=table)
        response = self._send_write(send, request, lambda _: encryptor)
        return self._decrypt_return_values(response, request, encryptor, table)

    # -- single-item and multi-item reads -----------------------------------------------

    def get_item(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        table = _table_name(request)
        check_projection(request, self.engine.base_actions(options, table), table=table)
        encryptor = self.engine.encryptor(table, options)
        response = send(**request)
        if isinstance(response, dict) and response.get("Item") is not None:
            response["Item"] = self.decrypt(encryptor, response["Item"], table)
        return response

    def prepare_read(
        self, kwargs: Mapping[str, Any], operation: str
    ) -> tuple[dict[str, Any], ItemEncryptorProtocol, str]:
        """Check a query/scan request; returns the request to send, the encryptor, the table."""
        request = dict(kwargs)
        options = CallOptions.pop(request)
        table = _table_name(request)
        check_projection(request, self.engine.base_actions(options, table), table=table)
        encryptor = self.engine.encryptor(table, options)
        if operation == "query":
            params: tuple[str, ...] = ("KeyConditionExpression", "FilterExpression")
            legacy: tuple[str, ...] = ("KeyConditions", "QueryFilter")
        else:
            params, legacy = ("FilterExpression",), ("ScanFilter",)
        check_conditions(
            request,
            ActionView.of(encryptor),
            self.shape,
            table=table,
            params=params,
            legacy=legacy,
        )
        return request, encryptor, table

    def decrypt_page(self, page: Any, encryptor: ItemEncryptorProtocol, table: str) -> Any:
        if isinstance(page, dict) and isinstance(page.get("Items"), list):
            page["Items"] = [self.decrypt(encryptor, item, table) for item in page["Items"]]
        return page

    def query(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        if self._beacon_read(kwargs) is not None:
            return self._beacon_read_page(send, kwargs, scan=False)
        request, encryptor, table = self.prepare_read(kwargs, "query")
        return self.decrypt_page(send(**request), encryptor, table)

    def scan(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        if self._beacon_read(kwargs) is not None:
            return self._beacon_read_page(send, kwargs, scan=True)
        request, encryptor, table = self.prepare_read(kwargs, "scan")
        return self.decrypt_page(send(**request), encryptor, table)

    def create_table(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        """CreateTable; keys and index keys that name a beacon become ``aws_dbe_b_<name>``."""
        table = kwargs.get("TableName")
        encryptor = self.engine._dbe_encryptors.get(table) if isinstance(table, str) else None
        beacons = beacons_of(encryptor)
        return send(**(beacon_table_schema(beacons, kwargs) if beacons is not None else kwargs))

    def _beacon_read(self, kwargs: Mapping[str, Any]) -> BeaconItemEncryptor | None:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        table = request.get("TableName")
        if not isinstance(table, str) or self.engine.encryption_config is None:
            return None
        return beacons_of(self.engine.encryptor(table, options))

    def _beacon_read_page(
        self, send: Callable[..., Any], kwargs: dict[str, Any], *, scan: bool
    ) -> Any:
        """A query/scan on a table with beacons: rewritten for them, re-filtered after."""
        request = dict(kwargs)
        options = CallOptions.pop(request)
        table = _table_name(request)
        check_projection(request, self.engine.base_actions(options, table), table=table)
        encryptor = self.engine.encryptor(table, options)
        beacons = beacons_of(encryptor)
        assert beacons is not None
        counting = request.get("Select") == "COUNT"
        if counting:
            # False positives must be dropped, so the items are read and counted here.
            del request["Select"]
        out, query = beacon_request(
            beacons, request, scan=scan, resource_style=self.shape.resource_style
        )
        page = send(**out)
        if isinstance(page, dict) and isinstance(page.get("Items"), list):
            kept = []
            for item in page["Items"]:
                plain = _telemetry.decrypt(encryptor, self.shape.to_ddb(item, table=table))
                if query.matches(plain):
                    kept.append(self.shape.from_ddb(plain))
            page["Count"] = len(kept)
            if counting:
                del page["Items"]
            else:
                page["Items"] = kept
        return page

    # -- batches ------------------------------------------------------------------------

    def batch_get_item(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        request_items = request.get("RequestItems")
        if not isinstance(request_items, Mapping):
            raise ConfigurationError("batch_get_item needs RequestItems")
        for table, table_request in request_items.items():
            if not isinstance(table_request, Mapping):
                raise ConfigurationError("RequestItems values must be mappings", table=table)
            check_projection(table_request, self.engine.base_actions(options, table), table=table)
        encryptors = {table: self.engine.encryptor(table, options) for table in request_items}
        response = send(**request)
        responses = response.get("Responses") if isinstance(response, dict) else None
        if isinstance(responses, dict):
            for table, items in responses.items():
                encryptor = encryptors.get(table) or self.engine.encryptor(table, options)
                responses[table] = [self.decrypt(encryptor, item, table) for item in items]
        return response

    def batch_write_item(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        request_items = request.get("RequestItems")
        if not isinstance(request_items, Mapping):
            raise ConfigurationError("batch_write_item needs RequestItems")
        encrypted_items: dict[str, list[Any]] = {}
        # (table, fingerprint of the stored item) -> the caller's plaintext request entry.
        originals: dict[tuple[str, tuple[Any, ...]], Any] = {}
        table_actions: dict[str, ActionView] = {}
        for table, entries in request_items.items():
            encryptor = self.engine.encryptor(table, options)
            actions = ActionView.of(encryptor)
            table_actions[table] = actions
            out_entries: list[Any] = []
            if not isinstance(entries, (list, tuple)):
                raise ConfigurationError("RequestItems values must be lists", table=table)
            for entry in entries:
                if not isinstance(entry, Mapping):
                    raise ConfigurationError("a batch write entry must be a mapping", table=table)
                put = entry.get("PutRequest")
                if put is None:
                    out_entries.append(entry)
                    continue
                if not isinstance(put, Mapping) or "Item" not in put:
                    raise ConfigurationError("a PutRequest needs an Item", table=table)
                stored = self.encrypt(encryptor, put["Item"], table)
                new_put = dict(put)
                new_put["Item"] = stored
                new_entry = dict(entry)
                new_entry["PutRequest"] = new_put
                out_entries.append(new_entry)
                ddb = self.shape.to_ddb(stored, table=table)
                originals[(table, _fingerprint(ddb, actions))] = entry
            encrypted_items[table] = out_entries
        request["RequestItems"] = encrypted_items
        response = send(**request)
        unprocessed = response.get("UnprocessedItems") if isinstance(response, dict) else None
        if isinstance(unprocessed, dict):
            for table, entries in unprocessed.items():
                restored = []
                for entry in entries:
                    put = entry.get("PutRequest") if isinstance(entry, dict) else None
                    if put is None or table not in table_actions:
                        restored.append(entry)
                        continue
                    ddb = self.shape.to_ddb(put["Item"], table=table)
                    original = originals.get((table, _fingerprint(ddb, table_actions[table])))
                    if original is None:
                        # Never hand back ciphertext as if it were the caller's item.
                        raise EncryptionError(
                            "an unprocessed item does not match any item of the request",
                            table=table,
                        )
                    restored.append(original)
                unprocessed[table] = restored
        return response

    # -- transactions -------------------------------------------------------------------

    def transact_get_items(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        entries = request.get("TransactItems")
        if not isinstance(entries, list):
            raise ConfigurationError("transact_get_items needs a TransactItems list")
        tables: list[str] = []
        for entry in entries:
            get = entry.get("Get") if isinstance(entry, Mapping) else None
            if not isinstance(get, Mapping):
                raise UnsupportedOperationError("a TransactItems entry without a Get")
            table = _table_name(get, "Get")
            check_projection(get, self.engine.base_actions(options, table), table=table)
            tables.append(table)
        plan = [(self.engine.encryptor(table, options), table) for table in tables]
        response = send(**request)
        responses = response.get("Responses") if isinstance(response, dict) else None
        if isinstance(responses, list):
            for (encryptor, table), holder in zip(plan, responses, strict=False):
                if isinstance(holder, dict) and holder.get("Item") is not None:
                    holder["Item"] = self.decrypt(encryptor, holder["Item"], table)
        return response

    def transact_write_items(self, send: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        request = dict(kwargs)
        options = CallOptions.pop(request)
        entries = request.get("TransactItems")
        if not isinstance(entries, list):
            raise ConfigurationError("transact_write_items needs a TransactItems list")
        # Check everything first: nothing is encrypted (no provider call) if any entry is
        # refused. Checks that need no table keys run before any DescribeTable.
        parsed: list[tuple[str, Mapping[str, Any], str]] = []
        for entry in entries:
            if not isinstance(entry, Mapping) or len(entry) != 1:
                raise UnsupportedOperationError(
                    "each TransactItems entry must hold exactly one of Put, Update, Delete, "
                    "ConditionCheck"
                )
            ((kind, body),) = entry.items()
            if kind not in ("Put", "Update", "Delete", "ConditionCheck"):
                raise UnsupportedOperationError(f"unknown transaction operation {kind!r}")
            if not isinstance(body, Mapping):
                raise UnsupportedOperationError(f"the {kind} entry must be a mapping")
            table = _table_name(body, kind)
            if kind == "Update":
                check_update(
                    body, self.engine.base_actions(options, table), self.shape, table=table
                )
            if kind == "Put" and "Item" not in body:
                raise ConfigurationError("a Put entry needs an Item", table=table)
            parsed.append((kind, body, table))
        plan: list[tuple[str, Mapping[str, Any], ItemEncryptorProtocol, str]] = []
        for kind, body, table in parsed:
            encryptor = self.engine.encryptor(table, options)
            check_conditions(body, ActionView.of(encryptor), self.shape, table=table)
            plan.append((kind, body, encryptor, table))
        out_entries: list[dict[str, Any]] = []
        for kind, body, encryptor, table in plan:
            if kind == "Put":
                new_body = dict(body)
                new_body["Item"] = self.encrypt(encryptor, body["Item"], table)
                out_entries.append({kind: new_body})
            elif kind == "Update":
                guarded = guard_signed(body, ActionView.of(encryptor), self.shape, table=table)
                out_entries.append({kind: guarded})
            else:
                out_entries.append({kind: body})
        request["TransactItems"] = out_entries

        def encryptor_at(position: int | None) -> ItemEncryptorProtocol | None:
            if position is None or position >= len(plan):
                return None
            return plan[position][2]

        return self._send_write(send, request, encryptor_at)
