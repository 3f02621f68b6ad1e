"""The two DB-ESDK algorithm suites and what each one implies."""

from __future__ import annotations

import enum

__all__ = ["DbeAlgorithmSuite"]


@enum.unique
class DbeAlgorithmSuite(enum.Enum):
    """A DB-ESDK algorithm suite, named as AWS names it.

    Both derive a 32-byte data key with HKDF-SHA512 and commit to it, encrypt each field with
    AES-256-GCM and sign the record with HMAC-SHA384 per encrypted data key; the default suite
    adds an ECDSA P-384 signature so that a reader holding the data key cannot forge items.
    """

    ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384 = b"\x67\x00"
    ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384 = b"\x67\x01"

    @property
    def suite_id(self) -> bytes:
        """The two-byte suite id (``0x67 0x0N``)."""
        return self.value

    @property
    def flavor(self) -> int:
        """The header's format-flavor byte: 0 (HMAC only) or 1 (HMAC and ECDSA)."""
        return self.value[1]

    @property
    def signs_with_ecdsa(self) -> bool:
        """True for the default suite, whose footer carries an ECDSA P-384 signature."""
        return self.value[1] == 1

    @classmethod
    def from_flavor(cls, flavor: int) -> DbeAlgorithmSuite:
        """The suite for a header flavor byte; raises `ValueError` for an unknown byte."""
        for suite in cls:
            if suite.value[1] == flavor:
                return suite
        raise ValueError("unknown DB-ESDK format flavor")


#: The suite DB-ESDK uses when none is configured.
DEFAULT_SUITE = (
    DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384
)
