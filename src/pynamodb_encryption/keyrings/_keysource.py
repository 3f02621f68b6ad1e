"""Helpers shared by the DB-ESDK keyrings that dbekeys wrote (RSA, KMS, multi, key store).

Private: nothing here is public API.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..errors import ProviderError
from ..structured._wrapping import DATA_KEY_LENGTH

__all__ = ["aws_call", "new_data_key", "new_intermediate_key"]

_T = TypeVar("_T")


def new_data_key() -> bytes:
    """A fresh 32-byte data key (both DB-ESDK suites derive from 32 bytes)."""
    return os.urandom(DATA_KEY_LENGTH)


def new_intermediate_key() -> bytes:
    """A fresh intermediate key: one per encrypted data key, never reused."""
    return os.urandom(DATA_KEY_LENGTH)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (a name, never a value)."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping):
            code = error.get("Code")
            if isinstance(code, str) and code:
                return code
    return type(exc).__name__


def aws_call(
    service: str,
    operation: str,
    call: Callable[[], _T],
    *,
    table: str | None = None,
    material_name: str | None = None,
) -> _T:
    """Run one AWS SDK call; any SDK failure becomes a `ProviderError` naming the error code.

    The message carries the service, the operation and AWS's error code only: AWS error
    messages can quote request values, so they stay in ``__cause__``.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as exc:
        raise ProviderError(
            f"{service} {operation} failed ({error_code(exc)})",
            table=table,
            material_name=material_name,
        ) from exc
    except BotoCoreError as exc:
        raise ProviderError(
            f"{service} {operation} failed ({type(exc).__name__})",
            table=table,
            material_name=material_name,
        ) from exc
