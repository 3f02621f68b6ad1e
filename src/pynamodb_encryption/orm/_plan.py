"""The per-class encryption plan: attribute actions, key names and (lazily) the item encryptor.

Everything here is computed once per model class. The declaration checks run when the class
is defined; the item encryptor is built on first use, because the materials provider may be a
zero-argument callable that reads keys from settings only at application start-up.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import Attribute, ListAttribute, MapAttribute, TTLAttribute

from .. import _telemetry
from ..core import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    LegacyPolicy,
    MaterialsProvider,
    PlaintextOverride,
)
from ..errors import ConfigurationError, MissingMetaError
from ..keyrings import HierarchicalKeyring, SingleBeaconKeySource
from ..structured import (
    DEFAULT_SUITE,
    BeaconItemEncryptor,
    BeaconKeySource,
    BeaconVersion,
    CompoundBeacon,
    DbeAlgorithmSuite,
    DbEsdkItemEncryptor,
    EncryptedPart,
    Keyring,
    SignedPart,
    StandardBeacon,
    VirtualField,
)
from ..structured._encryptor import RESERVED_PREFIX as DBE_RESERVED_PREFIX
from ..structured._migrating import MigratingItemEncryptor
from ._attributes import ProtectedAttribute

if TYPE_CHECKING:
    from pynamodb.models import Model

__all__ = [
    "ClassPlan",
    "PlaintextPolicy",
    "build_plan",
    "encryptor_for",
    "keyring_for",
    "require_meta",
    "signed_keys_encryptor_for",
]

RESERVED_NAMES = frozenset((SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE))


@enum.unique
class PlaintextPolicy(enum.Enum):
    """What a model does with a stored item that carries no signature.

    Adopting an existing plaintext table goes ``ALLOW_PLAINTEXT_READ`` (every write is
    encrypted, old items still load) and then, once every item has been rewritten,
    ``REQUIRE_ENCRYPTED`` (the default).
    """

    #: Unsigned items are refused with `PlaintextItemError`.
    REQUIRE_ENCRYPTED = "require-encrypted"
    #: Unsigned items load as they are (unverified); writes are always encrypted and signed.
    ALLOW_PLAINTEXT_READ = "allow-plaintext-read"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassPlan:
    """The static part of a model class's encryption plan (no provider, no table name)."""

    actions: AttributeActions
    hash_key_name: str | None
    range_key_name: str | None
    version_name: str | None
    #: DynamoDB names of the attributes with ENCRYPT_AND_SIGN (modelled ones).
    encrypted_names: frozenset[str]
    #: Python names of encrypted fields, masked by ``repr``.
    masked_python_names: frozenset[str]
    #: DynamoDB name -> action, for every modelled attribute.
    modelled: Mapping[str, CryptoAction]
    plaintext_policy: PlaintextPolicy
    default_action: CryptoAction
    #: ``Meta.key_action``: SIGN_ONLY (default) or DO_NOTHING (the reference's layout).
    key_action: CryptoAction
    #: With ``key_action`` DO_NOTHING: the same actions with the keys signed, which a read
    #: also accepts (a strictly stronger check), so a table can move to signed keys online.
    signed_keys_actions: AttributeActions | None
    #: DB-ESDK: the action of every attribute the plan names (with
    #: SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT where declared, and on the keys then).
    dbe_actions: Mapping[str, CryptoAction]
    #: DB-ESDK: the DO_NOTHING names, outside the signature scope.
    dbe_unsigned: frozenset[str]
    #: DB-ESDK searchable encryption: the standard beacons declared on fields (named).
    beacons: tuple[StandardBeacon, ...] = ()
    #: Every beacon name (field beacons and ``Meta.beacon_version``): usable in conditions
    #: and as index keys.
    beacon_names: frozenset[str] = frozenset()
    #: The whole beacon version, with a placeholder key source (resolved on first use).
    beacon_template: BeaconVersion | None = None

    def action(self, name: str) -> CryptoAction:
        """The action for a top-level DynamoDB attribute name (modelled or not)."""
        return self.actions.action(name)


def _meta_value(cls: type[Model], name: str, default: Any) -> Any:
    meta = getattr(cls, "Meta", None)
    return getattr(meta, name, default) if meta is not None else default


def _walk_nested(attribute: Attribute[Any], owner: str, top: str) -> None:
    """Refuse markers nested inside maps and lists: DDBEC encrypts whole top-level values."""
    children: list[tuple[str, Attribute[Any]]] = []
    if isinstance(attribute, MapAttribute) and type(attribute) is not MapAttribute:
        children = list(attribute.get_attributes().items())
    elif isinstance(attribute, ListAttribute) and attribute.element_type is not None:
        element = attribute.element_type
        if isinstance(element, type) and issubclass(element, MapAttribute):
            children = list(element.get_attributes().items())
    for name, child in children:
        if isinstance(child, ProtectedAttribute):
            raise ConfigurationError(
                f"{type(child).__name__} is only allowed on top-level model fields: mark the "
                f"whole field {owner}.{top} instead of {name} inside it",
                attribute=top,
            )
        _walk_nested(child, owner, top)


def build_plan(cls: type[Model]) -> ClassPlan:
    """Check a model's declarations and compute its plan.

    Raises:
        ConfigurationError: a declaration cannot work; the message says what to change.
    """
    owner = cls.__name__
    default_action = _meta_value(cls, "default_action", CryptoAction.DO_NOTHING)
    if not isinstance(default_action, CryptoAction):
        raise ConfigurationError(
            f"{owner}.Meta.default_action must be a CryptoAction (DO_NOTHING, SIGN_ONLY or "
            f"ENCRYPT_AND_SIGN), got {type(default_action).__name__}"
        )
    policy = _meta_value(cls, "plaintext_policy", PlaintextPolicy.REQUIRE_ENCRYPTED)
    if not isinstance(policy, PlaintextPolicy):
        raise ConfigurationError(
            f"{owner}.Meta.plaintext_policy must be a PlaintextPolicy, got {type(policy).__name__}"
        )
    key_action = _meta_value(cls, "key_action", CryptoAction.SIGN_ONLY)
    if key_action not in (CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING) or not isinstance(
        key_action, CryptoAction
    ):
        raise ConfigurationError(
            f"{owner}.Meta.key_action must be CryptoAction.SIGN_ONLY (the default) or "
            "CryptoAction.DO_NOTHING (keys left unsigned, as the reference library does with a "
            f"DO_NOTHING default), got {key_action!r}"
        )
    provider = _meta_value(cls, "materials_provider", None)
    if provider is not None and not (isinstance(provider, MaterialsProvider) or callable(provider)):
        raise ConfigurationError(
            f"{owner}.Meta.materials_provider must be a materials provider or a zero-argument "
            f"callable returning one, got {type(provider).__name__}"
        )
    keyring = _meta_value(cls, "keyring", None)
    if keyring is not None and not (isinstance(keyring, Keyring) or callable(keyring)):
        raise ConfigurationError(
            f"{owner}.Meta.keyring must be a keyring or a zero-argument callable returning one, "
            f"got {type(keyring).__name__}"
        )
    _check_dbe_meta(cls, owner, keyring is not None, provider is not None, key_action)

    attributes = cls.get_attributes()
    # Attributes that must stay readable by DynamoDB (or by PynamoDB's own machinery): signed,
    # never encrypted. The string says why, for the error message.
    forced: dict[str, str] = {}
    # The subset of `forced` that are table or index keys: their action is Meta.key_action.
    keys: set[str] = set()
    hash_key_name = range_key_name = version_name = None
    for python_name, attribute in attributes.items():
        if attribute.is_hash_key:
            hash_key_name = attribute.attr_name
            forced[attribute.attr_name] = "the hash key"
            keys.add(attribute.attr_name)
        if attribute.is_range_key:
            range_key_name = attribute.attr_name
            forced[attribute.attr_name] = "the range key"
            keys.add(attribute.attr_name)
        if python_name == cls._version_attribute_name:
            version_name = attribute.attr_name
            forced[attribute.attr_name] = "the version attribute"
    field_beacons, beacon_names, beacon_template = _beacon_declarations(
        cls, owner, attributes, keyring is not None, provider is not None
    )
    for index in getattr(cls, "_indexes", {}).values():
        index_name = index.Meta.index_name
        for index_attribute in index.Meta.attributes.values():
            name = index_attribute.attr_name
            if name in beacon_names:
                continue  # the index key is the stored beacon, aws_dbe_b_<name>
            if (index_attribute.is_hash_key or index_attribute.is_range_key) and (
                name not in forced
            ):
                forced[name] = f"a key of index {index_name!r}"
                keys.add(name)
    for attribute in attributes.values():
        if isinstance(attribute, TTLAttribute):
            forced[attribute.attr_name] = "the TTL attribute"
    discriminator = cls._get_discriminator_attribute()
    if discriminator is not None:
        forced[discriminator.attr_name] = "the discriminator"

    overrides: dict[str, CryptoAction] = {}
    modelled: dict[str, CryptoAction] = {}
    masked: set[str] = set()
    in_context: set[str] = set()
    for python_name, attribute in attributes.items():
        name = attribute.attr_name
        if name in RESERVED_NAMES:
            raise ConfigurationError(
                f"{owner}.{python_name} uses the reserved DynamoDB name {name!r} (signature / "
                "material description): choose another attr_name",
                attribute=name,
            )
        if name.startswith(DBE_RESERVED_PREFIX):
            raise ConfigurationError(
                f"{owner}.{python_name} has the DynamoDB name {name!r}: names starting with "
                f"{DBE_RESERVED_PREFIX!r} are reserved by the DB-ESDK format; choose another "
                "attr_name",
                attribute=name,
            )
        _walk_nested(
            attribute.inner if isinstance(attribute, ProtectedAttribute) else attribute,
            owner,
            python_name,
        )
        if isinstance(attribute, ProtectedAttribute):
            action = attribute.crypto_action
            if name in forced and action is CryptoAction.ENCRYPT_AND_SIGN:
                raise ConfigurationError(
                    f"{owner}.{python_name} is {forced[name]}, which DynamoDB must read in "
                    "plaintext: declare it without EncryptedAttribute (it is signed "
                    "automatically) or use SignedAttribute",
                    attribute=name,
                )
        elif name in keys:
            action = key_action
        elif name in forced:
            action = CryptoAction.SIGN_ONLY
        else:
            action = default_action
            if action is CryptoAction.ENCRYPT_AND_SIGN and (
                attribute.is_hash_key or attribute.is_range_key
            ):  # pragma: no cover - keys are in `forced`
                action = CryptoAction.SIGN_ONLY
        overrides[name] = action
        modelled[name] = action
        if getattr(attribute, "in_encryption_context", False):
            if keyring is None:
                raise ConfigurationError(
                    f"{owner}.{python_name}: in_encryption_context=True exists only in the "
                    "DB-ESDK format: set Meta.keyring, or drop it (the legacy format signs "
                    "the field as SIGN_ONLY)",
                    attribute=name,
                )
            in_context.add(name)
        if action is CryptoAction.ENCRYPT_AND_SIGN:
            masked.add(python_name)
    # Index keys may be attributes the model does not declare: still sign them.
    for name in forced:
        if name not in overrides:
            overrides[name] = key_action if name in keys else CryptoAction.SIGN_ONLY
    actions = AttributeActions(default_action, overrides)
    signed_keys_actions = None
    if key_action is CryptoAction.DO_NOTHING:
        signed_keys_actions = actions.with_overrides(
            {name: CryptoAction.SIGN_ONLY for name in keys if overrides[name] is key_action}
        )
    # DB-ESDK: every named attribute gets its action; keys take the context action when some
    # attribute is bound into the encryption context (the format requires it).
    dbe_actions = dict(overrides)
    for name in in_context:
        dbe_actions[name] = CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT
    if in_context:
        for name in keys:
            if dbe_actions[name] is not CryptoAction.DO_NOTHING:
                dbe_actions[name] = CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT
    if beacon_template is not None:
        for name, action in beacon_template.signed_beacon_actions().items():
            dbe_actions.setdefault(name, action)
    dbe_unsigned = frozenset(n for n, a in dbe_actions.items() if a is CryptoAction.DO_NOTHING)
    return ClassPlan(
        actions=actions,
        hash_key_name=hash_key_name,
        range_key_name=range_key_name,
        version_name=version_name,
        encrypted_names=frozenset(
            n for n, a in modelled.items() if a is CryptoAction.ENCRYPT_AND_SIGN
        ),
        masked_python_names=frozenset(masked),
        modelled=modelled,
        plaintext_policy=policy,
        default_action=default_action,
        key_action=key_action,
        signed_keys_actions=signed_keys_actions,
        dbe_actions=dbe_actions,
        dbe_unsigned=dbe_unsigned,
        beacons=field_beacons,
        beacon_names=beacon_names,
        beacon_template=beacon_template,
    )


class _PlanKeySource:
    """Stands for the beacon key source while a class is defined (it is resolved with the
    keyring, on first use): lets the declarations be checked as a `BeaconVersion` early."""

    key_field_name = None

    def beacon_key(self, beacon_key_id: str | None) -> Any:  # pragma: no cover - never called
        raise ConfigurationError("the beacon key source is resolved on first use")


_BEACON_PARTS = (StandardBeacon, CompoundBeacon, VirtualField, EncryptedPart, SignedPart)


def _beacon_declarations(
    cls: type[Model],
    owner: str,
    attributes: Mapping[str, Attribute[Any]],
    has_keyring: bool,
    has_provider: bool,
) -> tuple[tuple[StandardBeacon, ...], frozenset[str], BeaconVersion | None]:
    """Field beacons (named after their field), every beacon name, and the whole version
    (``Meta.beacon_version`` or ``Meta.beacons``, plus the field beacons) with a placeholder
    key source."""
    beacons: list[StandardBeacon] = []
    for attribute in attributes.values():
        beacon = getattr(attribute, "beacon", None)
        if beacon is None:
            continue
        name = attribute.attr_name
        if beacon.name and beacon.name != name and beacon.location is None:
            beacon = replace(beacon, location=name)
        beacons.append(replace(beacon, name=beacon.name or name))
    version = _meta_value(cls, "beacon_version", None)
    if version is not None and not isinstance(version, BeaconVersion):
        raise ConfigurationError(
            f"{owner}.Meta.beacon_version must be a BeaconVersion (compound beacons, virtual "
            f"fields, partitions), got {type(version).__name__}"
        )
    extras = _meta_value(cls, "beacons", ())
    if isinstance(extras, (str, bytes)) or not isinstance(extras, (tuple, list)):
        raise ConfigurationError(
            f"{owner}.Meta.beacons must be a tuple of CompoundBeacon, VirtualField, "
            "StandardBeacon (named, e.g. over a virtual field), EncryptedPart and SignedPart"
        )
    for extra in extras:
        if not isinstance(extra, _BEACON_PARTS) or (
            isinstance(extra, StandardBeacon) and not extra.name
        ):
            raise ConfigurationError(
                f"{owner}.Meta.beacons holds a {type(extra).__name__}: it takes CompoundBeacon, "
                "VirtualField, named StandardBeacon, EncryptedPart and SignedPart (a field's "
                "own beacon goes on the field: EncryptedAttribute(..., beacon=...))"
            )
    if extras and version is not None:
        raise ConfigurationError(f"{owner}: set Meta.beacons or Meta.beacon_version, not both")
    source = _meta_value(cls, "beacon_key_source", None)
    if source is not None and not isinstance(source, BeaconKeySource):
        raise ConfigurationError(
            f"{owner}.Meta.beacon_key_source must be a SingleBeaconKeySource or a "
            f"MultiBeaconKeySource, got {type(source).__name__}"
        )
    if not beacons and version is None and not extras:
        return (), frozenset(), None
    if not has_keyring:
        raise ConfigurationError(
            f"{owner} declares beacons, which exist only in the DB-ESDK format: set Meta.keyring"
        )
    if has_provider or _meta_value(cls, "legacy_policy", None) is not None:
        raise ConfigurationError(
            f"{owner} declares beacons and reads the legacy format: DB-ESDK refuses beacons "
            "with a legacy override; remove Meta.materials_provider and Meta.legacy_policy "
            "once the table is migrated"
        )

    def of(kind: type[Any]) -> tuple[Any, ...]:
        return tuple(e for e in extras if isinstance(e, kind))

    if version is None:
        template = BeaconVersion(
            standard_beacons=tuple(beacons) + of(StandardBeacon),
            compound_beacons=of(CompoundBeacon),
            virtual_fields=of(VirtualField),
            encrypted_parts=of(EncryptedPart),
            signed_parts=of(SignedPart),
            key_source=_PlanKeySource(),
        )
    else:
        template = replace(
            version, standard_beacons=tuple(version.standard_beacons) + tuple(beacons)
        )
    names = [b.name for b in template.standard_beacons]
    names += [c.name for c in template.compound_beacons]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(
            f"{owner}: beacon {duplicates[0]!r} is declared twice (on a field and in "
            "Meta.beacons or Meta.beacon_version): keep one"
        )
    return tuple(beacons), frozenset(names), template


def beacon_version_for(cls: type[Model], plan: ClassPlan, keyring: Keyring) -> BeaconVersion:
    """The class's `BeaconVersion`: the field beacons with ``Meta.beacons`` or
    ``Meta.beacon_version``; its key source is ``Meta.beacon_key_source``, else
    ``Meta.beacon_version``'s, else the beacon key of the hierarchical keyring's key store."""
    meta = require_meta(cls)
    template = plan.beacon_template
    assert template is not None
    version: BeaconVersion | None = getattr(meta, "beacon_version", None)
    source: BeaconKeySource | None = getattr(meta, "beacon_key_source", None)
    if source is None and version is not None:
        source = version.key_source
    if source is None:
        if not isinstance(keyring, HierarchicalKeyring) or keyring.branch_key_id is None:
            raise ConfigurationError(
                f"{cls.__name__} declares beacons: set Meta.beacon_key_source "
                "(SingleBeaconKeySource or MultiBeaconKeySource), or use a HierarchicalKeyring "
                "with a branch_key_id, whose key store then gives the beacon key"
            )
        source = SingleBeaconKeySource(
            key_store=keyring.key_store, beacon_key_id=keyring.branch_key_id
        )
    return replace(template, key_source=source)


def _check_dbe_meta(
    cls: type[Model], owner: str, has_keyring: bool, has_provider: bool, key_action: CryptoAction
) -> None:
    """The DB-ESDK settings of ``Meta``, checked at class definition."""
    policy = _meta_value(cls, "legacy_policy", None)
    if policy is not None:
        if not isinstance(policy, LegacyPolicy):
            raise ConfigurationError(
                f"{owner}.Meta.legacy_policy must be a LegacyPolicy, got {type(policy).__name__}"
            )
        if not (has_keyring and has_provider):
            raise ConfigurationError(
                f"{owner}.Meta.legacy_policy needs both Meta.materials_provider (the legacy "
                "format) and Meta.keyring (DB-ESDK)"
            )
    prefix = _meta_value(cls, "allowed_unsigned_attribute_prefix", None)
    if prefix is not None and (not isinstance(prefix, str) or not prefix):
        raise ConfigurationError(
            f"{owner}.Meta.allowed_unsigned_attribute_prefix must be a non-empty str"
        )
    suite = _meta_value(cls, "algorithm_suite", None)
    if suite is not None and not isinstance(suite, DbeAlgorithmSuite):
        raise ConfigurationError(f"{owner}.Meta.algorithm_suite must be a DbeAlgorithmSuite")
    if (prefix is not None or suite is not None) and not has_keyring:
        raise ConfigurationError(
            f"{owner}.Meta.allowed_unsigned_attribute_prefix and Meta.algorithm_suite are "
            "DB-ESDK settings: set Meta.keyring too"
        )
    if has_keyring and key_action is not CryptoAction.SIGN_ONLY:
        raise ConfigurationError(
            f"{owner}.Meta.key_action: the DB-ESDK format always signs the keys; remove "
            "Meta.key_action or drop Meta.keyring"
        )


# ---------------------------------------------------------------------------------------------
# The lazily built item encryptor


@dataclass(frozen=True, slots=True)
class _EncryptorCache:
    table_name: str
    provider_source: object
    keyring_source: object
    legacy_policy: object
    plaintext_policy: object
    #: The resolved key sources, kept when only a policy changes.
    provider: MaterialsProvider | None
    keyring: Keyring | None
    encryptor: MigratingItemEncryptor
    #: The legacy encryptor with the keys signed (``Meta.key_action = DO_NOTHING`` only).
    signed_keys_encryptor: ItemEncryptor | None

    def matches(self, table: str, provider: object, keyring: object, legacy: object) -> bool:
        return (
            self.table_name == table
            and self.provider_source is provider
            and self.keyring_source is keyring
            and self.legacy_policy is legacy
        )


# Guards only the creation of a class's own lock (never held while a provider resolves), so
# that a slow first use of one model (a KMS or settings lookup) never blocks another model.
_locks_guard = threading.Lock()


def _class_lock(cls: type[Model]) -> threading.Lock:
    lock: threading.Lock | None = cls.__dict__.get("_pde_lock")
    if lock is None:
        with _locks_guard:
            lock = cls.__dict__.get("_pde_lock")
            if lock is None:
                lock = threading.Lock()
                # In the class's own __dict__: a subclass gets its own lock, not its parent's.
                cls._pde_lock = lock  # type: ignore[attr-defined]
    return lock


def require_meta(cls: type[Model]) -> Any:
    """The model's ``Meta``, checked to have a table name.

    Raises:
        MissingMetaError: no ``Meta`` class or no ``Meta.table_name``.
    """
    meta = getattr(cls, "Meta", None)
    if meta is None:
        raise MissingMetaError(
            f"{cls.__name__} has no Meta class: declare one with table_name and "
            "materials_provider (PynamoDB models require a Meta class)"
        )
    if not getattr(meta, "table_name", None):
        raise MissingMetaError(f"{cls.__name__}.Meta.table_name is not set")
    return meta


def _resolve(cls: type[Model], source: object, setting: str, kind: type, what: str) -> Any:
    # A provider or keyring *class* also passes the protocol check (it has the methods):
    # treat classes as zero-argument factories.
    if isinstance(source, kind) and not isinstance(source, type):
        return source
    if callable(source):
        factory: Callable[[], object] = source
        resolved = factory()
        if not isinstance(resolved, kind):
            raise ConfigurationError(
                f"{cls.__name__}.Meta.{setting}() returned {type(resolved).__name__}, not {what}"
            )
        return resolved
    raise ConfigurationError(
        f"{cls.__name__}.Meta.{setting} is not set: give it {what} or a zero-argument "
        "callable returning one"
    )


def plaintext_override(cls: type[Model]) -> PlaintextOverride:
    """``Meta.plaintext_policy`` as DB-ESDK's plaintext override (read at use time, so a
    deployment can flip it from settings once a table has been rewritten)."""
    policy = getattr(require_meta(cls), "plaintext_policy", PlaintextPolicy.REQUIRE_ENCRYPTED)
    if isinstance(policy, PlaintextOverride):
        return policy
    if policy is PlaintextPolicy.REQUIRE_ENCRYPTED:
        return PlaintextOverride.FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ
    if policy is PlaintextPolicy.ALLOW_PLAINTEXT_READ:
        return PlaintextOverride.FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ
    raise ConfigurationError(
        f"{cls.__name__}.Meta.plaintext_policy must be a PlaintextPolicy or a PlaintextOverride",
        table=getattr(cls.Meta, "table_name", None),
    )


def _cached(cls: type[Model]) -> _EncryptorCache | None:
    cached: _EncryptorCache | None = cls.__dict__.get("_pde_encryptor_cache")
    return cached


def encryptor_for(cls: type[Model], plan: ClassPlan) -> MigratingItemEncryptor:
    """The class's item encryptor, built on first use and rebuilt only when ``Meta.table_name``,
    ``Meta.materials_provider``, ``Meta.keyring`` or a policy is replaced."""
    return _encryptors(cls, plan).encryptor


def keyring_for(cls: type[Model], plan: ClassPlan) -> Keyring | None:
    """The class's resolved ``Meta.keyring`` (None without one)."""
    return _encryptors(cls, plan).keyring


def signed_keys_encryptor_for(cls: type[Model], plan: ClassPlan) -> ItemEncryptor | None:
    """With ``Meta.key_action = DO_NOTHING``, an encryptor that reads items whose keys are
    signed (written after the table moved to signed keys); None otherwise."""
    return _encryptors(cls, plan).signed_keys_encryptor


def _encryptors(cls: type[Model], plan: ClassPlan) -> _EncryptorCache:
    meta = require_meta(cls)
    table_name = meta.table_name
    source = getattr(meta, "materials_provider", None)
    keyring_source = getattr(meta, "keyring", None)
    legacy_policy = getattr(meta, "legacy_policy", None)
    plaintext = plaintext_override(cls)
    cached = _cached(cls)
    if (
        cached is not None
        and cached.plaintext_policy is plaintext
        and cached.matches(table_name, source, keyring_source, legacy_policy)
    ):
        return cached
    with _class_lock(cls):
        cached = _cached(cls)
        if (
            cached is not None
            and cached.plaintext_policy is plaintext
            and cached.matches(table_name, source, keyring_source, legacy_policy)
        ):
            return cached
        reuse = cached is not None and cached.matches(
            table_name, source, keyring_source, legacy_policy
        )
        provider: MaterialsProvider | None = None
        keyring: Keyring | None = None
        if reuse:
            assert cached is not None
            provider, keyring = cached.provider, cached.keyring
        else:
            if source is not None or keyring_source is None:
                provider = _resolve(
                    cls, source, "materials_provider", MaterialsProvider, "a materials provider"
                )
                _telemetry.log_provider_resolved(cls.__name__, table_name, provider)
            if keyring_source is not None:
                keyring = _resolve(cls, keyring_source, "keyring", Keyring, "a keyring")
                _telemetry.log_provider_resolved(cls.__name__, table_name, keyring)

        def build(actions: AttributeActions) -> ItemEncryptor:
            assert provider is not None
            return ItemEncryptor(
                table_name=table_name,
                partition_key_name=plan.hash_key_name,
                sort_key_name=plan.range_key_name,
                attribute_actions=actions,
                materials_provider=provider,
            )

        dbe = None
        if keyring is not None:
            if plan.hash_key_name is None:
                raise ConfigurationError(f"{cls.__name__} has no hash key attribute")
            dbe = DbEsdkItemEncryptor(
                table_name=getattr(meta, "logical_table_name", None) or table_name,
                partition_key_name=plan.hash_key_name,
                sort_key_name=plan.range_key_name,
                attribute_actions=plan.dbe_actions,
                keyring=keyring,
                allowed_unsigned_attributes=plan.dbe_unsigned,
                allowed_unsigned_attribute_prefix=getattr(
                    meta, "allowed_unsigned_attribute_prefix", None
                ),
                algorithm_suite=getattr(meta, "algorithm_suite", None) or DEFAULT_SUITE,
            )
        writer: DbEsdkItemEncryptor | BeaconItemEncryptor | None = dbe
        if dbe is not None and plan.beacon_names:
            assert keyring is not None
            writer = BeaconItemEncryptor(dbe, beacon_version_for(cls, plan, keyring))
        encryptor = MigratingItemEncryptor(
            dbesdk=writer,
            legacy=build(plan.actions) if provider is not None else None,
            legacy_policy=legacy_policy,
            plaintext_override=plaintext,
        )
        fallback = plan.signed_keys_actions
        cached = _EncryptorCache(
            table_name=table_name,
            provider_source=source,
            keyring_source=keyring_source,
            legacy_policy=legacy_policy,
            plaintext_policy=plaintext,
            provider=provider,
            keyring=keyring,
            encryptor=encryptor,
            signed_keys_encryptor=(
                build(fallback) if fallback is not None and provider is not None else None
            ),
        )
        cls._pde_encryptor_cache = cached  # type: ignore[attr-defined]
        return cached
