"""Checks shared by the providers: what a signing and a verification key must be."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from ..core import EncryptionContext, RsaPrivateKey, Signer, SymmetricKey, Verifier
from ..core._keys import is_signing_algorithm
from ..errors import ConfigurationError, InvalidMaterialDescriptionError

_P = ParamSpec("_P")
_R = TypeVar("_R")


def reference_names(
    owner: str, renames: Mapping[str, str], *, positional: int = 0
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Turn the reference libraries' spellings into a `ConfigurationError` that names ours.

    ``renames`` maps a keyword of the Python or Java reference to what to write instead.
    ``positional`` is how many positional arguments the wrapped callable takes (``self``
    included): the references take their arguments positionally, which ours refuse, so more
    than that is also a reference spelling. Without this, both would be a bare ``TypeError``
    about an unexpected keyword that does not say what to change.
    """

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(function)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            for name in kwargs:
                if name in renames:
                    raise ConfigurationError(
                        f"{owner}() takes no {name}= (the reference library's name): "
                        f"use {renames[name]}"
                    )
            if len(args) > positional:
                raise ConfigurationError(
                    f"{owner}() takes keyword arguments only (unlike the reference library): "
                    f"{_spelling(function)}"
                )
            return function(*args, **kwargs)

        return wrapper

    return decorate


def _spelling(function: Callable[..., object]) -> str:
    import inspect

    names = [name for name in inspect.signature(function).parameters if name != "self"]
    return ", ".join(f"{name}=..." for name in names)


def check_signing_key(signing_key: object, *, required: bool) -> Signer | None:
    if signing_key is None:
        if required:
            raise ConfigurationError("a signing_key is required")
        return None
    if not isinstance(signing_key, Signer):
        raise ConfigurationError(
            "signing_key must be an HMAC SymmetricKey, an RsaPrivateKey or a Signer"
        )
    if isinstance(signing_key, (SymmetricKey, RsaPrivateKey)) and not is_signing_algorithm(
        signing_key.algorithm
    ):
        raise ConfigurationError(
            f"signing_key has algorithm {signing_key.algorithm!r}, which cannot sign: use "
            "'HmacSHA256' (or another HmacSHA*) for a symmetric key, 'SHA256withRSA' (or another "
            "SHA*withRSA) for an RSA key"
        )
    return signing_key


def resolve_verification_key(signing_key: Signer | None, verification_key: object) -> Verifier:
    """``verification_key`` or, when None, the signing key (HMAC) or its public half (RSA)."""
    if verification_key is not None:
        if not isinstance(verification_key, Verifier):
            raise ConfigurationError(
                "verification_key must be an HMAC SymmetricKey, an RsaPublicKey or a Verifier"
            )
        if isinstance(verification_key, SymmetricKey) and not is_signing_algorithm(
            verification_key.algorithm
        ):
            raise ConfigurationError("verification_key must be an HmacSHA* key")
        return verification_key
    if isinstance(signing_key, RsaPrivateKey):
        return signing_key.public_key()
    if isinstance(signing_key, Verifier):
        return signing_key
    raise ConfigurationError("a verification_key (or a signing_key that can verify) is required")


def merged_description(own: Mapping[str, str], request: Mapping[str, str]) -> dict[str, str]:
    merged = dict(own)
    merged.update(request)
    return merged


def check_description(description: Mapping[str, str] | None) -> dict[str, str]:
    if description is not None and not isinstance(description, Mapping):
        raise ConfigurationError("material_description must map str to str")
    result = dict(description or {})
    for key, value in result.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigurationError("material_description must map str to str")
    return result


def decode_b64(text: str, *, what: str, table: str | None = None) -> bytes:
    # Older Java writers use MIME base64 (CRLF every 76 characters); whitespace is not data,
    # anything else outside the alphabet is still rejected.
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidMaterialDescriptionError(f"{what} is not valid base64", table=table) from exc


def parse_algorithm(description: str, *, default_bits: int = 256) -> tuple[str, int]:
    """``"AES/256"`` -> ``("AES", 256)``; ``"AES"`` -> ``("AES", default_bits)``.

    Java writes ``AES`` where Python writes ``AES/256``: split on ``/`` and default the size.
    """
    name, _, bits = description.partition("/")
    if not bits:
        return name, default_bits
    # isascii(): str.isdigit() also accepts digits such as "²" that int() rejects.
    if not (bits.isascii() and bits.isdigit()):
        raise InvalidMaterialDescriptionError("malformed algorithm description")
    return name, int(bits)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (else the exception's type name).

    Safe to put in a message: codes never carry request or response data.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping):
            return str(error.get("Code", "unknown"))
    return type(exc).__name__


def client_method(client: object, operation: str, what: str) -> Callable[..., Any]:
    """``client.<operation>``, or a `ConfigurationError` saying what the client should be.

    Checked on use, not in constructors: those make no call on the client, and a wrong object
    (a boto3 resource or ``Table`` where a client belongs) would otherwise surface as an
    ``AttributeError`` from inside the provider.
    """
    method: object = getattr(client, operation, None)
    if not callable(method):
        raise ConfigurationError(what)
    return method


def check_context(context: object) -> None:
    """Providers are public: a caller other than the item encryptor gets a
    `ConfigurationError`, not an ``AttributeError`` from deep inside, for a wrong argument."""
    if not isinstance(context, EncryptionContext):
        raise ConfigurationError(
            f"context must be an EncryptionContext, got {type(context).__name__}"
        )
