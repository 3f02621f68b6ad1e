"""``EncryptedModel``: a PynamoDB ``Model`` whose items are encrypted and signed client-side.

Where each PynamoDB operation is hooked (PynamoDB 6.1):

- writes: ``save`` and ``TransactWrite.save`` go through ``_get_save_args`` (overridden so the
  version attribute is bumped *before* the item is signed); ``BatchWrite.commit`` calls
  ``serialize()`` (overridden to return the encrypted item);
- reads: ``get``, ``query``, ``scan``, ``batch_get`` and ``TransactGet`` build instances with
  ``from_raw_data`` (overridden to verify and decrypt first); ``refresh`` and ``update`` call
  ``deserialize()`` (overridden likewise);
- conditions and filters are checked before any request; projections are refused;
- ``update`` runs natively when it only touches unsigned attributes, otherwise as read / apply
  locally / re-sign / UpdateItem of the signed attributes conditioned on the old signature
  (``_signed_update.py``), so concurrent writes to unsigned attributes are never undone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar

from pynamodb.attributes import Attribute, AttributeContainer
from pynamodb.constants import ALL, ATTRIBUTES, ITEM
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action, RemoveAction, SetAction
from pynamodb.models import MetaModel, Model
from pynamodb.pagination import ResultIterator

from .. import _telemetry
from ..core import AttributeActions, CryptoAction, ItemEncryptorProtocol
from ..errors import (
    ConfigurationError,
    PlaintextItemError,
    SignatureVerificationError,
    UnsupportedOperationError,
)
from ..structured import BeaconItemEncryptor
from ._attributes import ProtectedAttribute, null_check_scope
from ._beacons import install_beacon_hook, take_decrypted
from ._expressions import (
    LocalUpdateError,
    apply_actions,
    check_actions_supported,
    check_update_expression,
    condition_names,
    evaluate_operand,
    operand_names,
    target_name,
)
from ._plan import (
    ClassPlan,
    build_plan,
    encryptor_for,
    keyring_for,
    require_meta,
    signed_keys_encryptor_for,
)
from ._signed_update import ConditionFailed as _ConditionFailed
from ._signed_update import RetryBudget as _RetryBudget
from ._signed_update import SignedWrite as _SignedWrite
from ._signed_update import SplitActions as _SplitActions
from ._signed_update import equals_or_absent as _equals_or_absent
from ._signed_update import send_update as _send_update
from ._signed_update import validation_error as _validation_error

__all__ = ["EncryptedMetaModel", "EncryptedModel"]

_M = TypeVar("_M", bound="EncryptedModel")
_KeyType = Any

_ENCRYPT = CryptoAction.ENCRYPT_AND_SIGN
_NOTHING = CryptoAction.DO_NOTHING
_MASK = "<encrypted>"


#: PynamoDB's classmethod as a plain function, to run it over `_InnerAttributes`.
_UPDATE_ATTRIBUTE_TYPES: Any = vars(AttributeContainer)["_update_attribute_types"].__func__


class _InnerAttributes:
    """A model's attributes with each marker replaced by the attribute it wraps."""

    __slots__ = ("_attributes",)

    def __init__(self, cls: type[Model]) -> None:
        self._attributes = {
            name: attribute.inner if isinstance(attribute, ProtectedAttribute) else attribute
            for name, attribute in cls.get_attributes().items()
        }

    def get_attributes(self) -> dict[str, Attribute[Any]]:
        return self._attributes


def _index_refusal(model: str, index_name: str, kind: str | None, operation: str) -> str:
    if kind is None:
        return f"{operation} on index {index_name!r}: {model} declares no such index"
    return (
        f"{operation} on index {index_name!r}: its projection is {kind}, so it returns part of "
        "each item, whose signature cannot be verified. Workaround: query the index with a "
        "plain PynamoDB model (or a boto3 client) on the same table for the keys only, then "
        f"load the whole items with {model}.batch_get(keys), which verifies and decrypts them; "
        "or give the index an AllProjection"
    )


class EncryptedMetaModel(MetaModel):
    """Checks an encrypted model's declarations once PynamoDB has collected its attributes.

    ``__init_subclass__`` would run too early (``get_attributes()`` is still empty there), so the
    check lives after ``MetaModel.__init__``, where PynamoDB validates hash keys itself.
    """

    def __init__(
        cls,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        discriminator: Any = None,
    ) -> None:
        super().__init__(name, bases, namespace, discriminator)
        cls._pde_plan = build_plan(cls)  # type: ignore[arg-type]


class EncryptedModel(Model, metaclass=EncryptedMetaModel):
    """A PynamoDB model whose marked fields are encrypted and whose items are signed.

    Declare fields with `EncryptedAttribute` / `SignedAttribute` and configure
    ``Meta``:

    - ``materials_provider``: a materials provider, or a zero-argument callable returning one
      (called on first use, so keys can come from settings loaded at start-up);
    - ``default_action`` (optional): the `CryptoAction` of unmarked fields, default
      ``DO_NOTHING``;
    - ``plaintext_policy`` (optional): a `PlaintextPolicy`, default
      ``REQUIRE_ENCRYPTED``;
    - ``key_action`` (optional): ``CryptoAction.SIGN_ONLY`` (default) signs the table and
      index keys; ``CryptoAction.DO_NOTHING`` leaves them unsigned, the layout the reference
      library writes under a ``DO_NOTHING`` default. Then an item can be moved to another key
      undetected: use it only to read such a table while moving it to signed keys
      (docs/migration.md). Reads also accept items whose keys are signed;
    - ``update_retry_seconds`` (optional): how long a signed ``update()`` keeps retrying
      against concurrent writers of the same item (jittered exponential backoff), default 10;
      then it raises `UpdateContentionError`;
    - ``update_attempts`` (optional): also stop after this many attempts, default no cap;
    - ``keyring`` (optional): a DB-ESDK keyring, or a zero-argument callable returning one
      (resolved once, on first use): items are written in the DB-ESDK format. Unmarked fields
      are DO_NOTHING and allowed unsigned; ``SignedAttribute(..., in_encryption_context=True)``
      is SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT. With ``allowed_unsigned_attribute_prefix``,
      ``algorithm_suite`` and ``logical_table_name`` (optional) as in AWS's table config;
    - ``legacy_policy`` (optional, with both ``materials_provider`` and ``keyring``): a
      `LegacyPolicy`, default ``FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT`` (write DB-ESDK,
      read both formats). ``plaintext_policy`` also takes a `PlaintextOverride`.

    Keys, index keys, the TTL, version and discriminator attributes are always signed and never
    encrypted.
    """

    _pde_plan: ClassVar[ClassPlan]

    # -----------------------------------------------------------------------------------------
    # Plan helpers

    @classmethod
    def get_attribute_actions(cls) -> AttributeActions:
        """The effective `AttributeActions` of this model
        (by DynamoDB attribute name), e.g. to configure another client on the same table."""
        return cls._pde_plan.actions

    @classmethod
    def reset_materials_provider(cls) -> None:
        """Forget the resolved provider, keyring and item encryptor of this class: the next
        operation resolves ``Meta.materials_provider`` and ``Meta.keyring`` again (e.g. after
        keys were reloaded)."""
        if "_pde_encryptor_cache" in cls.__dict__:
            delattr(cls, "_pde_encryptor_cache")

    @classmethod
    def _pde_key_attributes(cls) -> tuple[Attribute[Any], Attribute[Any] | None]:
        attributes = cls.get_attributes()
        if cls._hash_keyname is None:
            raise ConfigurationError(f"{cls.__name__} has no hash key attribute")
        range_attribute = attributes[cls._range_keyname] if cls._range_keyname else None
        return attributes[cls._hash_keyname], range_attribute

    @classmethod
    def _pde_encryptor(cls) -> ItemEncryptorProtocol:
        """The item encryptor of this class: legacy, DB-ESDK or both under
        ``Meta.legacy_policy`` and ``Meta.plaintext_policy``; every path below uses it through
        the item-encryptor protocol, whatever the format."""
        return encryptor_for(cls, cls._pde_plan)

    @classmethod
    def _pde_keyring(cls) -> Any:
        """The resolved ``Meta.keyring`` (None without one), e.g. for the re-encryption job."""
        return keyring_for(cls, cls._pde_plan)

    @classmethod
    def _pde_beacons(cls) -> BeaconItemEncryptor:
        """The beacon side of this class's encryptor (a class with beacons only)."""
        beacons = encryptor_for(cls, cls._pde_plan).beacons
        if beacons is None:  # pragma: no cover - a plan with beacons builds one
            raise ConfigurationError(f"{cls.__name__} declares no beacons")
        return beacons

    @classmethod
    def _pde_decrypt(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """Verify and decrypt a stored item (DynamoDB JSON) with this class's plan."""
        if cls._pde_plan.beacon_names:
            done = take_decrypted(raw)
            if done is not None:
                return done
        encryptor = cls._pde_encryptor()
        if not encryptor.is_encrypted(raw):
            try:
                plaintext = encryptor.decrypt(raw)  # Meta.plaintext_policy decides
            except PlaintextItemError as exc:
                raise PlaintextItemError(
                    "the item carries no encryption format (written before encryption was "
                    "enabled?); while adopting a plaintext table set Meta.plaintext_policy = "
                    "PlaintextPolicy.ALLOW_PLAINTEXT_READ",
                    table=cls.Meta.table_name,
                ) from exc
            _telemetry.plaintext_read(cls.Meta.table_name, cls.__name__)
            return plaintext
        # Only Meta.key_action = DO_NOTHING has a fallback: the common read does not look it up.
        plan = cls._pde_plan
        signed_keys = (
            None if plan.signed_keys_actions is None else signed_keys_encryptor_for(cls, plan)
        )
        if signed_keys is None:
            return _telemetry.decrypt(encryptor, raw)
        try:
            return encryptor.decrypt(raw)
        except SignatureVerificationError:
            # Meta.key_action = DO_NOTHING: also accept a legacy item whose keys are signed
            # (the stronger check), so readers keep working while a table moves to signed keys.
            if not signed_keys.is_encrypted(raw):
                raise
        return _telemetry.decrypt(signed_keys, raw)

    @classmethod
    def _pde_exists_guard(cls, condition: Condition | None) -> Condition | None:
        """``condition`` and: the item holds one of the formats the class reads (an
        UpdateItem on a missing item would otherwise create an unreadable one)."""
        markers = cls._pde_encryptor().marker_attributes
        if not markers:
            return condition
        exists: Condition = Path([markers[0]]).exists()
        for marker in markers[1:]:
            exists |= Path([marker]).exists()
        condition &= exists
        return condition

    @classmethod
    def _pde_check_condition(cls, condition: Condition | None, what: str) -> None:
        if condition is None:
            return
        action = cls._pde_plan.action
        beacon_names = cls._pde_plan.beacon_names
        for name in sorted(condition_names(condition)):
            if action(name) is _ENCRYPT and name not in beacon_names:
                raise UnsupportedOperationError(
                    f"the {what} names an encrypted attribute, so DynamoDB would compare "
                    "ciphertext: filter after loading, or declare the field SignedAttribute",
                    attribute=name,
                    table=cls.Meta.table_name,
                )

    @classmethod
    def _pde_refuse_projection(cls, attributes_to_get: Any, operation: str) -> None:
        if attributes_to_get is not None:
            raise UnsupportedOperationError(
                f"{operation}(attributes_to_get=...) returns partial items, whose signature "
                "cannot be verified: load whole items instead",
                table=cls.Meta.table_name,
            )

    @classmethod
    def _pde_check_index(cls, index_name: str | None, operation: str) -> None:
        if index_name is None:
            return
        index = cls._indexes.get(index_name)
        projection = getattr(getattr(index, "Meta", None), "projection", None)
        kind = getattr(projection, "projection_type", None)
        if index is None or kind != ALL:
            raise UnsupportedOperationError(
                _index_refusal(cls.__name__, index_name, kind, operation),
                table=cls.Meta.table_name,
            )

    @classmethod
    def _get_connection(cls) -> Any:
        require_meta(cls)  # a MissingMetaError (still an AttributeError, as in PynamoDB)
        connection = super()._get_connection()
        if cls._pde_plan.beacon_names:
            install_beacon_hook(connection.connection, cls._pde_beacons, cls._pde_decrypt)
        return connection

    # -----------------------------------------------------------------------------------------
    # Markers inside PynamoDB's container machinery, which recurses by isinstance() on
    # ListAttribute / MapAttribute and so would not see through a marker on its own.

    def _container_serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        # to_simple_dict(), to_dynamodb_dict() and serialize(null_check=False) pass
        # null_check=False here; PynamoDB hands it only to list and map attributes.
        with null_check_scope(null_check):
            return super()._container_serialize(null_check=null_check)

    @classmethod
    def _update_attribute_types(cls, attribute_values: dict[str, dict[str, Any]]) -> None:
        # from_simple_dict() / from_dynamodb_dict(): PynamoDB's own walk, over the attributes
        # the markers wrap, converts binary and set values nested in typed maps and lists.
        _UPDATE_ATTRIBUTE_TYPES(_InnerAttributes(cls), attribute_values)

    # -----------------------------------------------------------------------------------------
    # Writes

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """The encrypted and signed item, as sent to DynamoDB (used by ``BatchWrite``)."""
        plaintext = self._container_serialize(null_check=null_check)
        return _telemetry.encrypt(type(self)._pde_encryptor(), plaintext)

    def _get_save_args(
        self, condition: Condition | None = None, *, add_version_condition: bool = True
    ) -> tuple[Iterable[Any], dict[str, Any]]:
        cls = type(self)
        cls._pde_check_condition(condition, "condition")
        attribute_values = self._container_serialize(null_check=True)
        # Bump the version in the plaintext *before* signing: the signature covers it.
        version_condition = self._handle_version_attribute(attributes=attribute_values)
        if add_version_condition and version_condition is not None:
            condition &= version_condition
        attribute_values = _telemetry.encrypt(cls._pde_encryptor(), attribute_values)
        hash_key_attribute, range_key_attribute = cls._pde_key_attributes()
        hash_key = attribute_values.pop(hash_key_attribute.attr_name, {}).get(
            hash_key_attribute.attr_type
        )
        range_key = None
        if range_key_attribute is not None:
            range_key = attribute_values.pop(range_key_attribute.attr_name, {}).get(
                range_key_attribute.attr_type
            )
        kwargs: dict[str, Any] = {"attributes": attribute_values, "condition": condition}
        if range_key is not None:
            kwargs["range_key"] = range_key
        return (hash_key,), kwargs

    def delete(
        self, condition: Condition | None = None, *, add_version_condition: bool = True
    ) -> Any:
        type(self)._pde_check_condition(condition, "condition")
        return super().delete(condition, add_version_condition=add_version_condition)

    def get_delete_kwargs_from_instance(
        self,
        condition: Condition | None = None,
        return_values_on_condition_failure: str | None = None,
        *,
        add_version_condition: bool = True,
    ) -> dict[str, Any]:
        type(self)._pde_check_condition(condition, "condition")
        return super().get_delete_kwargs_from_instance(
            condition,
            return_values_on_condition_failure,
            add_version_condition=add_version_condition,
        )

    @classmethod
    def get_operation_kwargs_from_class(
        cls,
        hash_key: str,
        range_key: _KeyType | None = None,
        condition: Condition | None = None,
    ) -> dict[str, Any]:
        cls._pde_check_condition(condition, "condition")
        return super().get_operation_kwargs_from_class(hash_key, range_key, condition)

    # -----------------------------------------------------------------------------------------
    # update()

    def _pde_native_update(self, actions: list[Action]) -> bool:
        plan = type(self)._pde_plan
        if plan.version_name is not None:
            return False  # the version is signed and every update bumps it
        reserved = type(self)._pde_encryptor().reserved_attributes
        for action in actions:
            names = {target_name(action)} | operand_names(action)
            if any(plan.action(name) is not _NOTHING or name in reserved for name in names):
                return False
        return True

    def get_update_kwargs_from_instance(
        self,
        actions: list[Action],
        condition: Condition | None = None,
        return_values_on_condition_failure: str | None = None,
        *,
        add_version_condition: bool = True,
    ) -> dict[str, Any]:
        cls = type(self)
        cls._pde_check_condition(condition, "condition")
        if not self._pde_native_update(actions):
            raise UnsupportedOperationError(
                "TransactWrite.update() would change signed or encrypted attributes (or the "
                "signed version) without re-signing: set the fields on the instance and use "
                "TransactWrite.save(model, condition=...) instead",
                table=cls.Meta.table_name,
            )
        # As in update(): never create an unsigned (unreadable) item.
        condition = cls._pde_exists_guard(condition)
        return super().get_update_kwargs_from_instance(
            actions,
            condition,
            return_values_on_condition_failure,
            add_version_condition=add_version_condition,
        )

    def update(
        self,
        actions: list[Action],
        condition: Condition | None = None,
        *,
        add_version_condition: bool = True,
    ) -> Any:
        """Update the item, keeping it signed.

        Actions that only touch unsigned (``DO_NOTHING``) attributes go out as a native
        UpdateItem. Otherwise the item is read (consistently), verified and decrypted, the
        actions on signed and encrypted attributes are applied locally with DynamoDB's
        semantics, and one UpdateItem sets the re-signed attributes that changed, the new
        signature and material description, together with the caller's actions on unsigned
        attributes (applied by DynamoDB to their current values), conditioned on the
        signature that was read (and on ``condition`` and the version, as usual). Unsigned
        attributes are never rewritten from the copy that was read, so no concurrent write to
        them is lost. If another writer changed the signed part in between, the update is
        retried with jittered exponential backoff for up to ``Meta.update_retry_seconds``.

        Returns:
            The UpdateItem response (``{"Attributes": <stored item>}``, ``ALL_NEW``); the
            instance is refreshed with the new values.

        Raises:
            UnsupportedOperationError: an action cannot be applied locally, names a key, or a
                condition names an encrypted attribute (raised before any write).
            pynamodb.exceptions.UpdateError: ``condition`` or the version check failed (not
                retried), or DynamoDB would refuse the update (``cause_response_code`` is
                ``ValidationException`` whether DynamoDB or the local check refused it).
            UpdateContentionError: a subclass of ``UpdateError``: the item kept changing
                under concurrent writers until the retry budget was spent.
        """
        if not isinstance(actions, list) or len(actions) == 0:
            raise TypeError("the value of `actions` is expected to be a non-empty list")
        cls = type(self)
        cls._pde_check_condition(condition, "condition")
        if self._pde_native_update(actions):
            condition = cls._pde_exists_guard(condition)
            return super().update(actions, condition, add_version_condition=add_version_condition)
        return self._pde_update_signed(list(actions), condition, add_version_condition)

    def _pde_update_signed(
        self, actions: list[Action], condition: Condition | None, add_version_condition: bool
    ) -> Any:
        cls = type(self)
        plan = cls._pde_plan
        table = cls.Meta.table_name
        check_actions_supported(actions)
        key_names = {n for n in (plan.hash_key_name, plan.range_key_name) if n is not None}
        for action in actions:
            name = target_name(action)
            if name in key_names:
                raise UnsupportedOperationError(
                    "an update cannot change a key attribute", attribute=name, table=table
                )
        # PynamoDB appends the version action to the list it is given: give it our copy.
        version_condition = self._handle_version_attribute(actions=actions)
        if add_version_condition and version_condition is not None:
            condition &= version_condition
        split = _SplitActions(plan, actions, cls._pde_encryptor().reserved_attributes)
        try:
            # What DynamoDB refuses before looking at the item, refused before any request.
            check_update_expression(actions)
        except LocalUpdateError as exc:
            raise _validation_error(exc) from exc

        connection = cls._get_connection()
        hk_value, rk_value = self._get_hash_range_key_serialized_values()
        retry = _RetryBudget.for_model(cls)
        raw = self._pde_read_raw(connection, hk_value, rk_value)
        while True:
            write = self._pde_plan_write(raw, split, key_names)
            full_condition = write.guard if condition is None else write.guard & condition
            try:
                data = _send_update(connection, hk_value, rk_value, write.actions, full_condition)
            except _ConditionFailed as failed:
                current = failed.item
                if current is None:
                    current = self._pde_read_raw(connection, hk_value, rk_value)
                if write.landed(current):
                    # An earlier attempt of this very request was applied but its answer was
                    # lost (5xx, timeout) and botocore resent it: do not apply it twice.
                    self._container_deserialize(cls._pde_decrypt(current or {}))
                    return {"Attributes": current}
                if write.unchanged(current):
                    # Nobody else wrote what this update depends on, so ``condition`` or the
                    # version check failed: as PynamoDB, raise (never retried).
                    raise UpdateError("Failed to update item", cause=failed.cause) from failed
                retry.wait_or_raise(failed, table)
                raw = current
                continue
            returned: dict[str, Any] = data.get(ATTRIBUTES) or {}
            self._container_deserialize(write.result(returned, cls))
            return data

    def _pde_read_raw(self, connection: Any, hk_value: Any, rk_value: Any) -> dict[str, Any] | None:
        response = connection.get_item(hk_value, range_key=rk_value, consistent_read=True)
        raw: dict[str, Any] | None = response.get(ITEM) if response else None
        return raw

    def _pde_plan_write(
        self, raw: dict[str, Any] | None, split: _SplitActions, key_names: set[str]
    ) -> _SignedWrite:
        """The UpdateItem that turns ``raw`` into the updated, re-signed item: SET of the
        signed and encrypted attributes whose stored form changes (plus the signature and
        material description), REMOVE of those that go away, and the caller's actions on
        unsigned attributes as they are, so DynamoDB applies them to the current values.
        Unsigned attributes are never rewritten from the copy that was read."""
        cls = type(self)
        plan = cls._pde_plan
        table = cls.Meta.table_name
        encryptor = cls._pde_encryptor()
        reserved = encryptor.reserved_attributes
        guard_names: set[str] = set()
        guard: Condition
        if raw is None:
            plaintext = self._pde_keys_item(*self._get_hash_range_key_serialized_values())
            guard = Path([next(iter(plaintext))]).does_not_exist()
        else:
            stored_cls = cls._get_discriminator_class(raw)
            if stored_cls is not None and stored_cls is not cls:
                raise UnsupportedOperationError(
                    f"the stored item is a {stored_cls.__name__}, not a {cls.__name__}",
                    table=table,
                )
            plaintext = cls._pde_decrypt(raw)
            signature_name = encryptor.signature_attribute(raw)
            if signature_name is not None:
                # Legacy signature or DB-ESDK footer: it changes whenever the signed part does.
                guard_names.add(signature_name)
                guard = Path([signature_name]) == Value(raw[signature_name])
            else:
                # A plaintext item being adopted: no signature stands for its signed values,
                # so each of them must still be what was read, and no format appeared.
                ordered = sorted(reserved)
                guard_names.update(ordered)
                guard = Path([ordered[0]]).does_not_exist()
                for name in ordered[1:]:
                    guard &= Path([name]).does_not_exist()
                signed = {n for n in raw if plan.action(n) is not _NOTHING}
                signed |= {n for n, a in plan.modelled.items() if a is not _NOTHING}
                for name in sorted(signed - key_names - reserved):
                    guard_names.add(name)
                    guard &= _equals_or_absent(name, raw.get(name))
        # Unsigned values the re-signed part is computed from must not change meanwhile.
        for name in sorted(split.read_unsigned):
            guard_names.add(name)
            guard &= _equals_or_absent(name, None if raw is None else raw.get(name))
        try:
            new_plaintext = apply_actions(plaintext, split.local_signed)
            copied: list[Action] = []
            for action in split.local_unsigned:
                target = action.values[0]
                assert isinstance(target, Path)
                value = evaluate_operand(action.values[1], plaintext)
                copied.append(SetAction(target, Value(value)))
        except LocalUpdateError as exc:
            raise _validation_error(exc) from exc
        stored = _telemetry.encrypt(encryptor, new_plaintext)
        old = raw or {}
        update: list[Action] = []
        for name, value in stored.items():
            if name in key_names or (name not in reserved and plan.action(name) is _NOTHING):
                continue
            if old.get(name) != value:
                update.append(SetAction(Path([name]), Value(value)))
        for name in old:
            if name in key_names or name in stored:
                continue
            # Also the other format's attributes, when the item changes format.
            if name in reserved or plan.action(name) is not _NOTHING:
                update.append(RemoveAction(Path([name])))
        update.extend(copied)
        update.extend(split.native)
        new_signature_name = encryptor.signature_attribute(stored)
        if not update:
            # Nothing signed changed (a signature over plaintext only is deterministic) and
            # nothing else to do: DynamoDB refuses an empty update expression, so rewrite the
            # signature with itself (or remove an absent reserved attribute, for a plaintext
            # write) to keep the conditional check and the returned item.
            if new_signature_name is not None:
                same = Value(stored[new_signature_name])
                update.append(SetAction(Path([new_signature_name]), same))
            else:
                update.append(RemoveAction(Path([sorted(reserved)[0]])))
        return _SignedWrite(
            plan=plan,
            raw=raw,
            guard=guard,
            guard_names=frozenset(guard_names),
            actions=update,
            new_plaintext=new_plaintext,
            signature_name=new_signature_name,
            signature=None if new_signature_name is None else stored[new_signature_name],
            reserved=reserved,
            unique=encryptor.write_is_unique(stored),
        )

    def _pde_keys_item(self, hk_value: Any, rk_value: Any) -> dict[str, Any]:
        item: dict[str, Any] = {}
        hash_attribute, range_attribute = type(self)._pde_key_attributes()
        item[hash_attribute.attr_name] = {hash_attribute.attr_type: hk_value}
        if range_attribute is not None and rk_value is not None:
            item[range_attribute.attr_name] = {range_attribute.attr_type: rk_value}
        return item

    # -----------------------------------------------------------------------------------------
    # Reads

    @classmethod
    def from_raw_data(cls: type[_M], data: dict[str, Any]) -> _M:
        """Verify, decrypt and load a stored item (DynamoDB JSON), e.g. the ``raw_item`` of a
        transaction cancellation reason."""
        if data is None:
            raise ValueError("Received no data to construct object")
        stored_cls = cls._get_discriminator_class(data)
        if stored_cls is not None and not issubclass(stored_cls, cls):
            raise ValueError(
                f"Cannot instantiate a {cls.__name__} from the returned class: "
                f"{stored_cls.__name__}"
            )
        plan_cls: type[EncryptedModel] = stored_cls or cls
        return cls._instantiate(plan_cls._pde_decrypt(data))

    def deserialize(self, attribute_values: dict[str, dict[str, Any]]) -> None:
        """Verify, decrypt and load a stored item into this instance."""
        self._container_deserialize(type(self)._pde_decrypt(attribute_values))

    @classmethod
    def get(
        cls: type[_M],
        hash_key: _KeyType,
        range_key: _KeyType | None = None,
        consistent_read: bool = False,
        attributes_to_get: Sequence[str] | None = None,
    ) -> _M:
        cls._pde_refuse_projection(attributes_to_get, "get")
        return super().get(hash_key, range_key, consistent_read)

    @classmethod
    def batch_get(
        cls: type[_M],
        items: Iterable[_KeyType | Iterable[_KeyType]],
        consistent_read: bool | None = None,
        attributes_to_get: Sequence[str] | None = None,
    ) -> Iterator[_M]:
        # Not a generator, so the projection is refused at the call, not at the first next().
        cls._pde_refuse_projection(attributes_to_get, "batch_get")
        return super().batch_get(items, consistent_read)

    @classmethod
    def query(
        cls: type[_M],
        hash_key: _KeyType,
        range_key_condition: Condition | None = None,
        filter_condition: Condition | None = None,
        consistent_read: bool = False,
        index_name: str | None = None,
        scan_index_forward: bool | None = None,
        limit: int | None = None,
        last_evaluated_key: dict[str, dict[str, Any]] | None = None,
        attributes_to_get: Iterable[str] | None = None,
        page_size: int | None = None,
        rate_limit: float | None = None,
    ) -> ResultIterator[_M]:
        cls._pde_refuse_projection(attributes_to_get, "query")
        cls._pde_check_index(index_name, "query")
        cls._pde_check_condition(range_key_condition, "range key condition")
        cls._pde_check_condition(filter_condition, "filter condition")
        return super().query(
            hash_key,
            range_key_condition=range_key_condition,
            filter_condition=filter_condition,
            consistent_read=consistent_read,
            index_name=index_name,
            scan_index_forward=scan_index_forward,
            limit=limit,
            last_evaluated_key=last_evaluated_key,
            page_size=page_size,
            rate_limit=rate_limit,
        )

    @classmethod
    def scan(
        cls: type[_M],
        filter_condition: Condition | None = None,
        segment: int | None = None,
        total_segments: int | None = None,
        limit: int | None = None,
        last_evaluated_key: dict[str, dict[str, Any]] | None = None,
        page_size: int | None = None,
        consistent_read: bool | None = None,
        index_name: str | None = None,
        rate_limit: float | None = None,
        attributes_to_get: Sequence[str] | None = None,
    ) -> ResultIterator[_M]:
        cls._pde_refuse_projection(attributes_to_get, "scan")
        cls._pde_check_index(index_name, "scan")
        cls._pde_check_condition(filter_condition, "filter condition")
        return super().scan(
            filter_condition=filter_condition,
            segment=segment,
            total_segments=total_segments,
            limit=limit,
            last_evaluated_key=last_evaluated_key,
            page_size=page_size,
            consistent_read=consistent_read,
            index_name=index_name,
            rate_limit=rate_limit,
        )

    @classmethod
    def count(
        cls: type[_M],
        hash_key: _KeyType | None = None,
        range_key_condition: Condition | None = None,
        filter_condition: Condition | None = None,
        consistent_read: bool = False,
        index_name: str | None = None,
        limit: int | None = None,
        rate_limit: float | None = None,
    ) -> int:
        cls._pde_check_condition(range_key_condition, "range key condition")
        cls._pde_check_condition(filter_condition, "filter condition")
        return super().count(
            hash_key,
            range_key_condition=range_key_condition,
            filter_condition=filter_condition,
            consistent_read=consistent_read,
            index_name=index_name,
            limit=limit,
            rate_limit=rate_limit,
        )

    # -----------------------------------------------------------------------------------------
    # Plaintext hygiene

    def __repr__(self) -> str:
        masked = type(self)._pde_plan.masked_python_names
        fields = ", ".join(
            f"{name}={_MASK if name in masked else repr(value)}"
            for name, value in self.attribute_values.items()
        )
        return f"{type(self).__name__}({fields})"
