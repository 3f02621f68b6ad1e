"""The ``Model`` that PynamoDB's own test files import once patched by ``_pynamodb_suite``.

Each patched file has its one ``from pynamodb.models import Model`` line replaced by an import
of this module's ``Model``; ``pynamodb.models.Model`` itself is left alone (PynamoDB's own
modules keep using it). ``PYNAMODB_PARITY_MODE`` says what ``Model`` is:

- ``plain``: PynamoDB's ``Model`` (the baseline, through the same patched files);
- ``unmarked``: an `EncryptedModel` whose fields carry no marker (only keys and PynamoDB's
  special attributes are signed);
- ``marked``: the same, with every non-key field wrapped in `SignedAttribute` (except the
  version, TTL and discriminator attributes, which cannot be wrapped and are signed anyway).

Each test model that declares a ``Meta`` without a provider gets a static one, so the models
are used exactly as PynamoDB's tests declare them. This file is ours; it is put on the
``PYTHONPATH`` of the subprocess that runs PynamoDB's tests.
"""

from __future__ import annotations

import os
from typing import Any

from pynamodb.attributes import (
    Attribute,
    DiscriminatorAttribute,
    TTLAttribute,
    VersionAttribute,
)

from pynamodb_encryption import StaticMaterialsProvider, SymmetricKey
from pynamodb_encryption.orm import EncryptedModel, SignedAttribute
from pynamodb_encryption.orm._attributes import ProtectedAttribute
from pynamodb_encryption.orm._model import EncryptedMetaModel

__all__ = ["MODE", "Model"]

MODE = os.environ.get("PYNAMODB_PARITY_MODE", "plain")
if MODE not in ("plain", "unmarked", "marked"):
    raise RuntimeError(f"PYNAMODB_PARITY_MODE must be plain, unmarked or marked, not {MODE!r}")

_UNWRAPPABLE = (VersionAttribute, TTLAttribute, DiscriminatorAttribute, ProtectedAttribute)


def _provider() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(bytes(range(32)), "AES"),
        signing_key=SymmetricKey(bytes(range(32, 64)), "HmacSHA256"),
    )


def _mark(namespace: dict[str, Any]) -> None:
    for name, value in list(namespace.items()):
        if (
            isinstance(value, Attribute)
            and not isinstance(value, _UNWRAPPABLE)
            and not getattr(value, "is_hash_key", False)
            and not getattr(value, "is_range_key", False)
        ):
            namespace[name] = SignedAttribute(value)


class _ParityMetaModel(EncryptedMetaModel):
    def __new__(
        mcls,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        discriminator: Any = None,
    ) -> Any:
        if MODE == "marked":
            _mark(namespace)
        return super().__new__(mcls, name, bases, namespace, discriminator)

    def __init__(
        cls,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        discriminator: Any = None,
    ) -> None:
        meta = namespace.get("Meta")
        if meta is not None and not hasattr(meta, "materials_provider"):
            meta.materials_provider = _provider
        super().__init__(name, bases, namespace, discriminator)


if MODE == "plain":
    from pynamodb.models import Model
else:

    class Model(EncryptedModel, metaclass=_ParityMetaModel):  # type: ignore[no-redef]
        """PynamoDB's tests subclass this instead of ``pynamodb.models.Model``."""
