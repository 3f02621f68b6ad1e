"""How the job tells an item that is already current from one to re-encrypt.

The material description is a cheap first screen (`CurrentCheck`); the job then verifies and
decrypts a candidate with the new configuration before it leaves the item alone.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Protocol

from .. import _telemetry
from ..core import EncryptionContext
from ..core._md import (
    MD_CONTENT_KEY_ALGORITHM,
    MD_ENCRYPTED_KEY,
    MD_KEY_WRAP_ALGORITHM,
    MD_SIGNING_KEY_ALGORITHM,
)
from ..errors import ConfigurationError
from ._retries import error_code

__all__ = [
    "VOLATILE_DESCRIPTION_KEYS",
    "CurrentCheck",
    "KmsKeyCheck",
    "same_material_description",
    "verify_only",
]

#: Material description entries that differ on every write (the wrapped per-item key) and so
#: say nothing about which configuration wrote an item.
VOLATILE_DESCRIPTION_KEYS = frozenset({MD_ENCRYPTED_KEY})


class CurrentCheck(Protocol):
    """Decides from the material descriptions whether an item may already be current.

    ``stored`` is the item's material description; ``target`` is the description the new
    provider produces now (from one probe call, refreshed every few seconds); ``context``
    names the table and key attributes and holds the item's key values. Return False when
    the item was certainly written by another configuration (it is then re-encrypted). True
    is only a candidate: the job also checks that the item verifies and decrypts with the new
    configuration before it leaves the item alone.
    """

    def __call__(
        self, stored: Mapping[str, str], target: Mapping[str, str], context: EncryptionContext
    ) -> bool:
        """True when ``stored`` is compatible with ``target``."""
        ...


def same_material_description(
    stored: Mapping[str, str], target: Mapping[str, str], context: EncryptionContext
) -> bool:
    """The default check: every stable entry the new provider writes has the same value.

    This catches a new meta-store version (``amzn-ddb-meta-id``), a new wrapping algorithm
    or key kind (``amzn-ddb-wrap-alg``), a KMS/wrapped/static provider switch, and changed
    custom entries. What it cannot see (a static or same-kind wrapped key replacement, new
    attribute actions) is caught by the verification with the new keys. A KMS key change is
    invisible to both (KMS decrypts with whatever key the data key names): use
    `KmsKeyCheck` for it.
    """
    return all(
        stored.get(key) == value
        for key, value in target.items()
        if key not in VOLATILE_DESCRIPTION_KEYS
    )


def verify_only(
    stored: Mapping[str, str], target: Mapping[str, str], context: EncryptionContext
) -> bool:
    """Decide by verification with the new configuration alone (ignore the descriptions)."""
    return True


class KmsKeyCheck:
    """`same_material_description`, and for KMS items: is the data key under ``key_id``?

    KMS ``Decrypt`` finds the key from the ciphertext itself, so after a KMS key change the
    new provider still reads every old item. This check asks KMS to decrypt the item's data
    key *with* ``KeyId=key_id`` (one extra request per KMS item), which KMS refuses when the
    data key was made under another key.

    Args:
        kms_client: a boto3 KMS client.
        key_id: the new KMS key (id, ARN, alias name or alias ARN).
    """

    __slots__ = ("_client", "_key_id")

    def __init__(self, kms_client: Any, key_id: str) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise ConfigurationError("key_id must be a non-empty KMS key id, ARN or alias")
        self._client = kms_client
        self._key_id = key_id

    def __repr__(self) -> str:
        return f"KmsKeyCheck(key_id={self._key_id!r})"

    def __call__(
        self, stored: Mapping[str, str], target: Mapping[str, str], context: EncryptionContext
    ) -> bool:
        if not same_material_description(stored, target, context):
            return False
        if stored.get(MD_KEY_WRAP_ALGORITHM) != "kms":
            return True
        from ..providers._aws_kms import kms_encryption_context

        content = stored.get(MD_CONTENT_KEY_ALGORITHM)
        signing = stored.get(MD_SIGNING_KEY_ALGORITHM)
        encoded = stored.get(MD_ENCRYPTED_KEY)
        if content is None or signing is None or encoded is None:
            return False
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return False
        ec = kms_encryption_context(context, content_algorithm=content, signing_algorithm=signing)
        try:
            with _telemetry.kms_call("decrypt", self._key_id, None):
                self._client.decrypt(CiphertextBlob=blob, EncryptionContext=ec, KeyId=self._key_id)
        except Exception as exc:
            if error_code(exc) is None:
                raise  # not a refusal from KMS (network...): let the item fail and be reported
            return False
        return True
