"""Multi-keyring: one data key protected by several keyrings (``framework/multi-keyring.md``)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigurationError, EncryptionError, ProviderError, PynamoDBEncryptionError
from ..structured._materials import (
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    EncryptedDataKey,
    Keyring,
)

__all__ = ["MultiKeyring"]


def _check(keyring: object, what: str) -> Keyring:
    if not isinstance(keyring, Keyring):
        raise ConfigurationError(f"{what} must be a keyring (with on_encrypt and on_decrypt)")
    return keyring


class MultiKeyring:
    """Combine keyrings: every item gets one encrypted data key per keyring.

    On write, ``generator`` makes the data key and each of ``children`` adds its own copy
    (any failure fails the write). On read, the generator then the children are tried in
    order until one opens a data key. A multi-keyring without a generator can only add
    copies of a data key another keyring made, so at least one of the two is required.
    """

    __slots__ = ("_children", "_generator")

    def __init__(
        self, *, generator: Keyring | None = None, children: Sequence[Keyring] = ()
    ) -> None:
        if generator is not None:
            _check(generator, "generator")
        if isinstance(children, (str, bytes)) or not isinstance(children, Sequence):
            raise ConfigurationError("children must be a sequence of keyrings")
        for child in children:
            _check(child, "each child")
        if generator is None and not children:
            raise ConfigurationError("MultiKeyring needs a generator, children or both")
        self._generator = generator
        self._children: tuple[Keyring, ...] = tuple(children)

    def __repr__(self) -> str:
        return f"MultiKeyring(generator={self._generator!r}, children={list(self._children)!r})"

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        """Generator first (it must produce the data key), then every child in order."""
        if self._generator is not None:
            if materials.plaintext_data_key is not None:
                raise EncryptionError(
                    "the materials already hold a data key, but this MultiKeyring has a "
                    "generator: use one without a generator to add copies"
                )
            materials = self._generator.on_encrypt(materials)
            if materials.plaintext_data_key is None:
                raise EncryptionError("the generator keyring did not produce a data key")
        elif materials.plaintext_data_key is None:
            raise EncryptionError(
                "this MultiKeyring has no generator and the materials hold no data key"
            )
        for child in self._children:
            materials = child.on_encrypt(materials)
        return materials

    def on_decrypt(
        self,
        materials: DbeDecryptionMaterials,
        encrypted_data_keys: Sequence[EncryptedDataKey],
    ) -> DbeDecryptionMaterials:
        """The first keyring that opens a data key wins.

        Unchanged when no keyring can and none failed; a `ProviderError` that carries the
        failures (in ``__cause__`` and ``failures``) when none could and one failed.
        """
        if materials.plaintext_data_key is not None:
            return materials
        keyrings = (
            (self._generator, *self._children) if self._generator is not None else self._children
        )
        failures: list[PynamoDBEncryptionError] = []
        for keyring in keyrings:
            try:
                result = keyring.on_decrypt(materials, encrypted_data_keys)
            except PynamoDBEncryptionError as exc:
                failures.append(exc)
                continue
            if result.plaintext_data_key is not None:
                return result
        if not failures:
            return materials
        error = MultiKeyringError(
            f"no keyring of the MultiKeyring opened a data key; {len(failures)} failed: "
            + "; ".join(str(f) for f in failures),
            failures=tuple(failures),
        )
        raise error from failures[-1]


class MultiKeyringError(ProviderError):
    """Every keyring of a `MultiKeyring` failed or could not open a data key.

    ``failures`` holds each keyring's error, in the order the keyrings were tried.
    """

    def __init__(self, message: str, *, failures: tuple[PynamoDBEncryptionError, ...]) -> None:
        super().__init__(message)
        self.failures = failures
