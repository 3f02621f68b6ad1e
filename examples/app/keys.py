"""Key loading for the app: done once at start-up, never at import.

In a real project the key material comes from your settings (a secret manager, environment
variables, or KMS through :class:`~pynamodb_encryption.AwsKmsMaterialsProvider`).
"""

# --8<-- [start:imports]
from __future__ import annotations

import base64
import os

from pynamodb_encryption import (
    ConfigurationError,
    MaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)

# --8<-- [end:imports]

# --8<-- [start:keys]
_provider: MaterialsProvider | None = None


def configure(provider: MaterialsProvider) -> None:
    """Install the app's materials provider (call from start-up code, e.g. AppConfig.ready)."""
    global _provider
    _provider = provider


def configure_from_environment() -> None:
    """Read base64 keys from CLINIC_WRAPPING_KEY / CLINIC_SIGNING_KEY."""
    try:
        wrapping = base64.b64decode(os.environ["CLINIC_WRAPPING_KEY"])
        signing = base64.b64decode(os.environ["CLINIC_SIGNING_KEY"])
    except KeyError as exc:
        raise ConfigurationError(f"missing key setting {exc.args[0]}") from exc
    configure(
        WrappedMaterialsProvider(
            wrapping_key=SymmetricKey(wrapping, "AES"),
            signing_key=SymmetricKey(signing, "HmacSHA256"),
        )
    )


def materials_provider() -> MaterialsProvider:
    """What ``Meta.materials_provider`` points at: resolved on the model's first use."""
    if _provider is None:
        raise ConfigurationError("the clinic app's keys are not configured yet")
    return _provider


# --8<-- [end:keys]
