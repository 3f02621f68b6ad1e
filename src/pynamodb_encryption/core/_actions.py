"""What happens to each attribute: encrypt and sign, sign only, or nothing."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from typing_extensions import Self

from ..errors import ConfigurationError

__all__ = ["AttributeActions", "CryptoAction"]


@enum.unique
class CryptoAction(enum.IntEnum):
    """The protection applied to one attribute.

    Hashable, unlike the reference library's enum, so it can key a dict or sit in a set. The
    first three are ordered by strength (``DO_NOTHING < SIGN_ONLY < ENCRYPT_AND_SIGN``).
    ``SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT`` (DB-ESDK only: signed, not encrypted, and its
    value bound into the encryption context) came later and keeps the next value, so its
    number says nothing about strength: compare actions with ``is``, never with ``<``. The
    legacy format refuses it (`AttributeActions` raises `ConfigurationError`).
    """

    DO_NOTHING = 0
    SIGN_ONLY = 1
    ENCRYPT_AND_SIGN = 2
    SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT = 3


_NOT_LEGACY = (
    "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT exists only in the DB-ESDK format "
    "(pynamodb_encryption.dbesdk); the legacy format can use SIGN_ONLY"
)


class AttributeActions:
    """The action for every attribute name: explicit overrides, then a default.

    Immutable once built; `with_index_keys` and `with_overrides` return new objects.
    """

    __slots__ = ("_default", "_hash", "_overrides", "_take_no_actions")

    def __init__(
        self,
        default_action: CryptoAction = CryptoAction.ENCRYPT_AND_SIGN,
        attribute_actions: Mapping[str, CryptoAction] | None = None,
    ) -> None:
        if not isinstance(default_action, CryptoAction):
            raise ConfigurationError(
                f"default_action must be a CryptoAction, got {type(default_action).__name__}"
            )
        if attribute_actions is not None and not isinstance(attribute_actions, Mapping):
            raise ConfigurationError(
                "attribute_actions must map attribute names to CryptoAction values, got "
                f"{type(attribute_actions).__name__}"
            )
        if default_action is CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT:
            raise ConfigurationError(_NOT_LEGACY)
        overrides = dict(attribute_actions or {})
        for name, action in overrides.items():
            if not isinstance(name, str):
                raise ConfigurationError("attribute_actions keys must be attribute names (str)")
            if not isinstance(action, CryptoAction):
                raise ConfigurationError(
                    f"an attribute action must be a CryptoAction, got {type(action).__name__}",
                    attribute=name,
                )
            if action is CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT:
                raise ConfigurationError(_NOT_LEGACY, attribute=name)
        self._default = default_action
        self._hash: int | None = None
        self._overrides: Mapping[str, CryptoAction] = MappingProxyType(overrides)
        self._take_no_actions = default_action is CryptoAction.DO_NOTHING and all(
            a is CryptoAction.DO_NOTHING for a in overrides.values()
        )

    @property
    def default_action(self) -> CryptoAction:
        """The action for attributes without an override."""
        return self._default

    @property
    def attribute_actions(self) -> Mapping[str, CryptoAction]:
        """The explicit per-attribute overrides (read-only)."""
        return self._overrides

    @property
    def take_no_actions(self) -> bool:
        """True when every attribute is DO_NOTHING: items are neither signed nor encrypted."""
        return self._take_no_actions

    def action(self, name: str) -> CryptoAction:
        """The action for attribute ``name``."""
        return self._overrides.get(name, self._default)

    def contains_action(self, action: CryptoAction) -> bool:
        """True when ``action`` applies to at least the default or one override."""
        return self._default is action or action in self._overrides.values()

    def with_overrides(self, overrides: Mapping[str, CryptoAction]) -> Self:
        """A copy with more per-attribute overrides (later ones win)."""
        merged = dict(self._overrides)
        merged.update(overrides)
        return type(self)(self._default, merged)

    def with_index_keys(self, names: Iterable[str | None]) -> Self:
        """A copy where each named key attribute is at most SIGN_ONLY.

        Keys must stay readable for DynamoDB, so an encrypting default is lowered to SIGN_ONLY
        (as the reference's ``set_index_keys`` does); an explicit ENCRYPT_AND_SIGN override
        on a key is a configuration error.
        """
        merged = dict(self._overrides)
        for name in names:
            if name is None:
                continue
            explicit = self._overrides.get(name)
            if explicit is CryptoAction.ENCRYPT_AND_SIGN:
                raise ConfigurationError(
                    "key attributes cannot be encrypted: set them to SIGN_ONLY or DO_NOTHING",
                    attribute=name,
                )
            current = self.action(name)
            merged[name] = (
                CryptoAction.DO_NOTHING
                if current is CryptoAction.DO_NOTHING
                else CryptoAction.SIGN_ONLY
            )
        return type(self)(self._default, merged)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if not isinstance(other, AttributeActions):
            return NotImplemented
        # mappingproxy compares the dicts it wraps: no copies (this keys the encryptor caches).
        return self._default is other._default and self._overrides == other._overrides

    def __hash__(self) -> int:
        cached = self._hash
        if cached is None:
            cached = self._hash = hash((self._default, frozenset(self._overrides.items())))
        return cached

    def __repr__(self) -> str:
        overrides = {k: v.name for k, v in sorted(self._overrides.items())}
        return (
            f"AttributeActions(default_action={self._default.name}, attribute_actions={overrides})"
        )
