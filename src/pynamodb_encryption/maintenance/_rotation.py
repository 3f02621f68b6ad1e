"""A provider for the length of a key rotation: writes with the new keys, reads old and new.

Static and wrapped providers cannot tell which key wrote an item (a static item's material
description names no key; a wrapped one names only the algorithm). During a rotation the
application must read both, so this provider **tags** what it writes with a key id in the
material description (``key-id`` by default) and picks the reading provider by that tag.
Items written before tagging started carry no tag and go to ``untagged``.

The tag is not secret and, like the whole material description, not signed: a wrong tag only
picks keys that then fail to verify the item.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from ..core import DecryptionMaterials, EncryptionContext, EncryptionMaterials, MaterialsProvider
from ..errors import ConfigurationError, DecryptionError

__all__ = ["DEFAULT_KEY_ID_ENTRY", "KeyRotationProvider"]

#: The material description entry that names the key generation.
DEFAULT_KEY_ID_ENTRY = "key-id"


class KeyRotationProvider:
    """Encrypt with ``current`` (tagged ``current_id``); decrypt with the provider the tag names.

    Args:
        current: the provider with the new keys.
        current_id: the tag stored with every item written from now on (e.g. ``"2026-11"``).
        previous: providers for older tags, ``{"2026-05": old_provider}``.
        untagged: the provider for items that carry no tag (written before tagging).
        description_key: the material description entry holding the tag.

    Example: rotate a static key (``old`` wrote every item so far, untagged)::

        provider = KeyRotationProvider(current=new, current_id="2", untagged=old)
    """

    __slots__ = ("_current", "_current_id", "_key", "_previous", "_untagged")

    def __init__(
        self,
        *,
        current: MaterialsProvider,
        current_id: str,
        previous: Mapping[str, MaterialsProvider] | None = None,
        untagged: MaterialsProvider | None = None,
        description_key: str = DEFAULT_KEY_ID_ENTRY,
    ) -> None:
        providers = [current, *(previous or {}).values()] + ([untagged] if untagged else [])
        if not all(isinstance(p, MaterialsProvider) for p in providers):
            raise ConfigurationError("every provider must be a MaterialsProvider")
        if not isinstance(current_id, str) or not current_id:
            raise ConfigurationError("current_id must be a non-empty string")
        if not isinstance(description_key, str) or not description_key:
            raise ConfigurationError("description_key must be a non-empty string")
        if previous and current_id in previous:
            raise ConfigurationError("current_id must not also be a previous key id")
        self._current = current
        self._current_id = current_id
        self._previous: Mapping[str, MaterialsProvider] = MappingProxyType(dict(previous or {}))
        self._untagged = untagged
        self._key = description_key

    def __repr__(self) -> str:
        return (
            f"KeyRotationProvider(current_id={self._current_id!r}, "
            f"previous={sorted(self._previous)!r}, untagged={self._untagged is not None})"
        )

    @property
    def current_id(self) -> str:
        return self._current_id

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        # The tag goes in through the request's description, which every provider merges into
        # what it stores; it is checked afterwards in case a provider ignores it.
        tagged = dataclasses.replace(
            context,
            material_description={**context.material_description, self._key: self._current_id},
        )
        materials = self._current.encryption_materials(tagged)
        if materials.material_description.get(self._key) != self._current_id:
            description = dict(materials.material_description)
            description[self._key] = self._current_id
            materials = dataclasses.replace(materials, material_description=description)
        return materials

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        tag = context.material_description.get(self._key)
        if tag is None:
            provider = self._untagged
        elif tag == self._current_id:
            provider = self._current
        else:
            provider = self._previous.get(tag)
        if provider is None:
            raise DecryptionError(
                "the item names a key id this provider does not have"
                if tag is not None
                else "the item carries no key id and no provider for untagged items is set",
                table=context.table_name,
            )
        return provider.decryption_materials(context)
