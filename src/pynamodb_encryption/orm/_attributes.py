"""Markers for model fields: ``EncryptedAttribute(inner)`` and ``SignedAttribute(inner)``.

Each marker is a real PynamoDB attribute (a subclass of ``Attribute[T]``) that delegates
storage, serialization and descriptors to the wrapped attribute. Keeping the generic parameter
of the inner attribute means that for mypy ``Model.field`` is still an attribute (usable in
conditions and update actions) while ``instance.field`` has the inner value type.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, TypeVar, overload

from pynamodb.attributes import (
    Attribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    TTLAttribute,
    VersionAttribute,
)

from ..core import CryptoAction
from ..errors import ConfigurationError
from ..structured import StandardBeacon

__all__ = ["EncryptedAttribute", "ProtectedAttribute", "SignedAttribute"]

_T = TypeVar("_T")
_A = TypeVar("_A", bound="ProtectedAttribute[Any]")
_MapT = TypeVar("_MapT", bound="MapAttribute[Any, Any]")

# Attributes whose role PynamoDB recognises with isinstance() on the model class: wrapping
# them would silently switch that role off, and they are signed automatically anyway.
_SPECIAL_ATTRIBUTES: tuple[tuple[type[Attribute[Any]], str], ...] = (
    (VersionAttribute, "VersionAttribute"),
    (TTLAttribute, "TTLAttribute"),
    (DiscriminatorAttribute, "DiscriminatorAttribute"),
)


# PynamoDB passes ``null_check`` only to attributes that are ListAttribute or MapAttribute
# instances, which a marker is not; the model publishes its own for the serialization under way.
_null_check: ContextVar[bool] = ContextVar("pynamodb_encryption_null_check", default=True)


@contextmanager
def null_check_scope(null_check: bool) -> Iterator[None]:
    """Within the block, markers serialize with ``null_check`` unless told otherwise."""
    token = _null_check.set(null_check)
    try:
        yield
    finally:
        _null_check.reset(token)


class ProtectedAttribute(Attribute[_T]):
    """Base of the two markers: a PynamoDB attribute wrapping another one.

    Not used directly; see `EncryptedAttribute` and `SignedAttribute`.
    """

    #: What the item encryptor does with this attribute.
    crypto_action: ClassVar[CryptoAction]

    @overload
    def __init__(self: ProtectedAttribute[_MapT], inner: _MapT) -> None: ...

    @overload
    def __init__(self, inner: Attribute[_T]) -> None: ...

    def __init__(self, inner: Attribute[Any]) -> None:
        # The first overload mirrors MapAttribute.__get__, which returns the map class itself
        # (not a Mapping) on instances.
        marker = type(self).__name__
        if isinstance(inner, ProtectedAttribute):
            raise ConfigurationError(
                f"{marker} wraps a plain PynamoDB attribute, not another "
                f"{type(inner).__name__}: remove one of the two markers"
            )
        if not isinstance(inner, Attribute):
            raise ConfigurationError(
                f"{marker} wraps a PynamoDB attribute instance, e.g. "
                f"{marker}(UnicodeAttribute()); got {type(inner).__name__}"
            )
        for special, label in _SPECIAL_ATTRIBUTES:
            if isinstance(inner, special):
                raise ConfigurationError(
                    f"a {label} is always signed (never encrypted) by EncryptedModel: "
                    f"declare it without {marker}"
                )
        # Deliberately no Attribute.__init__: every setting comes from the inner attribute,
        # which has already validated them.
        self.inner = inner
        self._sync_from_inner()

    def _sync_from_inner(self) -> None:
        inner = self.inner
        self.attr_type = inner.attr_type
        # A MapAttribute subclass is still an attribute *container* until its __set_name__
        # runs, so its Attribute fields may not exist yet; __set_name__ syncs again.
        self.null = getattr(inner, "null", False)
        self.default = getattr(inner, "default", None)
        self.default_for_new = getattr(inner, "default_for_new", None)
        self.is_hash_key = getattr(inner, "is_hash_key", False)
        self.is_range_key = getattr(inner, "is_range_key", False)
        inner_path = getattr(inner, "attr_path", None)
        if inner_path is None:
            kwargs = getattr(inner, "attribute_kwargs", {})
            inner_path = [kwargs.get("attr_name")]
        # Share the list object: a rename through either attribute shows in both.
        self.attr_path = inner_path

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.inner.__set_name__(owner, name)
        self._sync_from_inner()

    @overload
    def __get__(self: _A, instance: None, owner: Any) -> _A: ...

    @overload
    def __get__(self: _A, instance: Any, owner: Any) -> _T: ...

    def __get__(self: _A, instance: Any, owner: Any) -> _A | _T:
        if instance is None:
            return self
        value: _T = self.inner.__get__(instance, owner)
        return value

    def __set__(self, instance: Any, value: _T | None) -> None:
        self.inner.__set__(instance, value)

    def serialize(self, value: Any, *, null_check: bool | None = None) -> Any:
        inner = self.inner
        if null_check is None:
            null_check = _null_check.get()
        if isinstance(inner, (ListAttribute, MapAttribute)):
            return inner.serialize(value, null_check=null_check)
        return inner.serialize(value)

    def deserialize(self, value: Any) -> Any:
        return self.inner.deserialize(value)

    def get_value(self, value: dict[str, Any]) -> Any:
        return self.inner.get_value(value)

    def __getattr__(self, name: str) -> Any:
        # Lets `Model.signed_map.nested_field` build condition paths like the inner MapAttribute.
        # Dunder names never delegate (copy/pickle probe them before __init__ ran); other
        # private names only when they are fields of the inner map (`Model.m._kind`), which
        # PynamoDB allows like any other field name.
        inner = self.__dict__.get("inner")
        if inner is None or name == "inner" or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        if name.startswith("_") and not (
            isinstance(inner, MapAttribute) and name in inner.get_attributes()
        ):
            raise AttributeError(name)
        return getattr(inner, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.inner).__name__}(attr_name={self.attr_name!r}))"


class EncryptedAttribute(ProtectedAttribute[_T]):
    """A field whose value is encrypted (AES-CBC) and signed; wraps any PynamoDB attribute.

    Example::

        class Patient(EncryptedModel):
            ssn = EncryptedAttribute(UnicodeAttribute())

    The stored value is binary ciphertext, so conditions and filters on this field are
    rejected, unless the field has a beacon (``beacon=StandardBeacon(length=16)``, DB-ESDK
    models only): equality is then answered by the beacon and re-checked on the decrypted
    items. Key attributes, index keys, the TTL, version and discriminator attributes cannot
    be encrypted.
    """

    crypto_action = CryptoAction.ENCRYPT_AND_SIGN

    # Overloads repeated per class: mypy binds a self-type overload only on the class that
    # declares it.
    @overload
    def __init__(
        self: EncryptedAttribute[_MapT], inner: _MapT, *, beacon: StandardBeacon | None = None
    ) -> None: ...

    @overload
    def __init__(self, inner: Attribute[_T], *, beacon: StandardBeacon | None = None) -> None: ...

    def __init__(self, inner: Attribute[Any], *, beacon: StandardBeacon | None = None) -> None:
        super().__init__(inner)
        if beacon is not None and not isinstance(beacon, StandardBeacon):
            raise ConfigurationError(
                "beacon must be a StandardBeacon, e.g. beacon=StandardBeacon(length=16) "
                "(compound beacons and virtual fields go in Meta.beacon_version)"
            )
        #: DB-ESDK searchable encryption: a standard beacon over this field (named after the
        #: field's DynamoDB name unless the beacon has its own name), stored beside the
        #: ciphertext as ``aws_dbe_b_<name>`` and usable in conditions and as an index key.
        self.beacon = beacon


class SignedAttribute(ProtectedAttribute[_T]):
    """A field stored in plaintext but covered by the item signature; wraps any attribute.

    Example::

        class Patient(EncryptedModel):
            status = SignedAttribute(UnicodeAttribute())

    Conditions and filters on this field work as usual.
    """

    crypto_action = CryptoAction.SIGN_ONLY

    # Overloads repeated per class: mypy binds a self-type overload only on the class that
    # declares it.
    @overload
    def __init__(
        self: SignedAttribute[_MapT], inner: _MapT, *, in_encryption_context: bool = False
    ) -> None: ...

    @overload
    def __init__(self, inner: Attribute[_T], *, in_encryption_context: bool = False) -> None: ...

    def __init__(self, inner: Attribute[Any], *, in_encryption_context: bool = False) -> None:
        super().__init__(inner)
        if not isinstance(in_encryption_context, bool):
            raise ConfigurationError("in_encryption_context must be True or False")
        #: DB-ESDK: SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT (the value is also bound into the
        #: encryption context the keyring sees); the legacy format signs it as SIGN_ONLY.
        self.in_encryption_context = in_encryption_context
