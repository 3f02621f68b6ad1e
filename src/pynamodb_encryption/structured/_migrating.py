"""The migrating encryptor: one item-encryptor that reads and writes the legacy and the DB-ESDK
formats (and plaintext) under DB-ESDK's legacy and plaintext overrides.

Models, helpers and jobs hold one of these whenever a configuration names more than one format,
and use it through the same protocol as a single-format encryptor (core/_protocol.py).

An item is legacy when it holds the legacy signature or material description attribute (the
reference writes both), DB-ESDK when it holds ``aws_dbe_head`` or ``aws_dbe_foot``, plaintext
when it holds none of them. An item holding both formats' attributes is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core._actions import CryptoAction
from ..core._encryptor import RESERVED_ATTRIBUTES as LEGACY_RESERVED
from ..core._encryptor import SIGNATURE_ATTRIBUTE, ItemEncryptor
from ..core._protocol import LegacyPolicy, PlaintextOverride
from ..errors import ConfigurationError, DecryptionError, EncryptionError, PlaintextItemError
from ._beacon_encryptor import BeaconItemEncryptor
from ._beacons import BEACON_PREFIX, VERSION_TAG
from ._encryptor import HEADER_ATTRIBUTE, RESERVED_ATTRIBUTES, DbEsdkItemEncryptor

__all__ = ["MigratingItemEncryptor", "item_format"]

_FORCE = LegacyPolicy.FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT
_FORBID_BOTH = LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT
_DEFAULT_POLICY = LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT


def item_format(item: Mapping[str, Any]) -> str:
    """``"legacy"``, ``"dbesdk"`` or ``"plaintext"``: which format a stored item carries (by
    its reserved attributes; nothing is verified). ``"mixed"`` when it holds both formats'."""
    legacy = any(name in item for name in LEGACY_RESERVED)
    dbe = any(name in item for name in RESERVED_ATTRIBUTES)
    if legacy and dbe:
        return "mixed"
    return "legacy" if legacy else "dbesdk" if dbe else "plaintext"


class MigratingItemEncryptor:
    """Writes one format and reads those its policies allow.

    Args:
        dbesdk: the DB-ESDK encryptor (None: legacy only, as a model with only a materials
            provider).
        legacy: the legacy encryptor (None: DB-ESDK only).
        legacy_policy: required to mean anything only when both are given; default
            ``FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT``. With ``legacy`` alone the
            encryptor writes and reads legacy.
        plaintext_override: what to do with plaintext items, default
            ``FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ``.
    """

    __slots__ = ("_dbe", "_legacy", "_markers", "_plaintext", "_policy", "_reserved", "_writer")

    def __init__(
        self,
        *,
        dbesdk: DbEsdkItemEncryptor | BeaconItemEncryptor | None = None,
        legacy: ItemEncryptor | None = None,
        legacy_policy: LegacyPolicy | None = None,
        plaintext_override: PlaintextOverride = (
            PlaintextOverride.FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ
        ),
    ) -> None:
        if dbesdk is None and legacy is None:
            raise ConfigurationError("a DB-ESDK or a legacy encryptor (or both) is required")
        if dbesdk is not None and not isinstance(
            dbesdk, (DbEsdkItemEncryptor, BeaconItemEncryptor)
        ):
            raise ConfigurationError(
                "dbesdk must be a DbEsdkItemEncryptor or a BeaconItemEncryptor"
            )
        if isinstance(dbesdk, BeaconItemEncryptor) and legacy is not None:
            # As DB-ESDK: a table with a search configuration cannot have a legacy override.
            raise ConfigurationError(
                "beacons cannot be combined with the legacy format: DB-ESDK refuses a search "
                "configuration with a legacy override; finish the migration first"
            )
        if legacy is not None and not isinstance(legacy, ItemEncryptor):
            raise ConfigurationError("legacy must be an ItemEncryptor (legacy format)")
        if legacy_policy is not None and not isinstance(legacy_policy, LegacyPolicy):
            raise ConfigurationError("legacy_policy must be a LegacyPolicy")
        if not isinstance(plaintext_override, PlaintextOverride):
            raise ConfigurationError("plaintext_override must be a PlaintextOverride")
        if dbesdk is None:
            if legacy_policy is not None and legacy_policy is not _FORCE:
                raise ConfigurationError(
                    f"legacy_policy {legacy_policy.name} writes DB-ESDK items: configure a "
                    "keyring (DB-ESDK) too"
                )
            legacy_policy = _FORCE
        elif legacy is None:
            if legacy_policy is not None and legacy_policy is not _FORBID_BOTH:
                raise ConfigurationError(
                    f"legacy_policy {legacy_policy.name} needs the legacy configuration "
                    "(a materials provider) too"
                )
            legacy_policy = _FORBID_BOTH
        elif legacy_policy is None:
            legacy_policy = _DEFAULT_POLICY
        self._dbe: DbEsdkItemEncryptor | BeaconItemEncryptor | None = dbesdk
        self._legacy = legacy if legacy_policy is not _FORBID_BOTH else None
        self._policy = legacy_policy
        self._plaintext = plaintext_override
        writer: ItemEncryptor | DbEsdkItemEncryptor | BeaconItemEncryptor | None = (
            legacy if legacy_policy is _FORCE else dbesdk
        )
        assert writer is not None
        self._writer = writer
        # Both formats' attributes are reserved whatever the policy: a rewrite must remove the
        # other format's attributes, and no item may hold them as data.
        self._reserved = LEGACY_RESERVED | RESERVED_ATTRIBUTES
        if isinstance(dbesdk, BeaconItemEncryptor):
            # Rewritten with the item (an update of a field rewrites its beacon), never data.
            info = dbesdk.search_info
            stored = (info.stored_name(n) for n in info.beacon_names())
            self._reserved |= {n for n in stored if n.startswith(BEACON_PREFIX)} | {VERSION_TAG}
        markers: list[str] = []
        if not plaintext_override.reads_plaintext:
            if self._legacy is not None:
                markers.append(SIGNATURE_ATTRIBUTE)
            if dbesdk is not None:
                markers.append(HEADER_ATTRIBUTE)
        self._markers = tuple(markers)

    @property
    def table_name(self) -> str:
        """The table name bound into every item."""
        return self._writer.table_name

    @property
    def legacy_policy(self) -> LegacyPolicy:
        """The legacy override in force."""
        return self._policy

    @property
    def plaintext_override(self) -> PlaintextOverride:
        """The plaintext override in force."""
        return self._plaintext

    @property
    def dbesdk(self) -> DbEsdkItemEncryptor | None:
        """The DB-ESDK side, if any (without its beacons: see `beacons`)."""
        if isinstance(self._dbe, BeaconItemEncryptor):
            return self._dbe.encryptor
        return self._dbe

    @property
    def beacons(self) -> BeaconItemEncryptor | None:
        """The DB-ESDK side with its beacons, if the table has a search configuration."""
        return self._dbe if isinstance(self._dbe, BeaconItemEncryptor) else None

    @property
    def legacy(self) -> ItemEncryptor | None:
        """The legacy side, if legacy items are read."""
        return self._legacy

    @property
    def reserved_attributes(self) -> frozenset[str]:
        """Both formats' reserved attributes."""
        return self._reserved

    @property
    def marker_attributes(self) -> tuple[str, ...]:
        """The legacy signature and/or the DB-ESDK header, as the policies read them; empty
        when plaintext items are read."""
        return self._markers

    def action(self, name: str) -> CryptoAction:
        """The writing format's action for the attribute."""
        return self._writer.action(name)

    def is_encrypted(self, item: Mapping[str, Any]) -> bool:
        """Whether the item carries either format."""
        return item_format(item) != "plaintext"

    def signature_attribute(self, item: Mapping[str, Any]) -> str | None:
        """The attribute to condition a rewrite on, in whichever format the item is."""
        kind = item_format(item)
        if kind == "legacy" and self._legacy is not None:
            return self._legacy.signature_attribute(item)
        if kind == "dbesdk" and self._dbe is not None:
            return self._dbe.signature_attribute(item)
        return None

    def write_is_unique(self, stored: Mapping[str, Any]) -> bool:
        """As the encryptor that wrote ``stored``."""
        if self._plaintext.writes_plaintext:
            return False
        return self._writer.write_is_unique(stored)

    def encrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Encrypt with the writing format (or leave in plaintext under
        ``FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ``)."""
        if self._plaintext.writes_plaintext:
            if type(item) is not dict and not isinstance(item, Mapping):
                raise EncryptionError("an item must be a mapping of attribute names to values")
            for name in self._reserved:
                if name in item:
                    raise EncryptionError(
                        "the item already holds a reserved attribute",
                        attribute=name,
                        table=self.table_name,
                    )
            return dict(item)
        return self._writer.encrypt(item)

    def decrypt(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Verify and decrypt in the item's own format, as the policies allow.

        Raises:
            PlaintextItemError: a plaintext item, and the plaintext override refuses them.
            DecryptionError: a legacy item the legacy policy refuses, an item of a format not
                configured, an item holding both formats, or any failure of the format's own.
        """
        if type(item) is not dict and not isinstance(item, Mapping):
            raise DecryptionError("an item must be a mapping of attribute names to values")
        kind = item_format(item)
        table = self.table_name
        if kind == "dbesdk":
            if self._dbe is None:
                raise DecryptionError(
                    "the item is in the DB-ESDK format and no keyring is configured", table=table
                )
            return self._dbe.decrypt(item)
        if kind == "legacy":
            if self._legacy is None:
                if self._policy is _FORBID_BOTH and self._dbe is not None:
                    raise DecryptionError(
                        "the item is in the legacy format, which the legacy policy "
                        "FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT refuses",
                        table=table,
                    )
                raise DecryptionError(  # pragma: no cover - legacy-only always has legacy
                    "the item is in the legacy format and no materials provider is configured",
                    table=table,
                )
            return self._legacy.decrypt(item)
        if kind == "mixed":
            raise DecryptionError(
                "the item holds both the legacy and the DB-ESDK attributes", table=table
            )
        if self._plaintext.reads_plaintext:
            return dict(item)
        raise PlaintextItemError(
            "the item is neither in the legacy nor in the DB-ESDK format (written without "
            "encryption?); while adopting a plaintext table allow plaintext reads",
            table=table,
        )

    def __repr__(self) -> str:
        return (
            f"MigratingItemEncryptor(dbesdk={self._dbe!r}, legacy={self._legacy!r}, "
            f"legacy_policy={self._policy.name}, plaintext_override={self._plaintext.name})"
        )
