"""A branch key store holding one plaintext branch key: for tests and AWS's published vectors."""

from __future__ import annotations

import uuid

from ..errors import ConfigurationError, ProviderError
from ..structured._materials import BeaconKeyMaterials, BranchKeyMaterials

__all__ = ["StaticKeyStore"]


class StaticKeyStore:
    """One branch key id, one version, its 32-byte branch key and beacon key, in memory.

    Production code reads branch keys from AWS's DynamoDB key-store table with `KeyStore`;
    this store exists for tests, examples and AWS's published test vectors. A request for
    another branch key id or version raises `ProviderError`.
    """

    __slots__ = ("_beacon", "_branch")

    def __init__(
        self,
        *,
        branch_key_id: str,
        branch_key_version: str,
        branch_key: bytes,
        beacon_key: bytes,
    ) -> None:
        if not isinstance(branch_key_id, str) or not branch_key_id:
            raise ConfigurationError("branch_key_id must be a non-empty str")
        try:
            version = str(uuid.UUID(branch_key_version))
        except (TypeError, ValueError, AttributeError):
            raise ConfigurationError("branch_key_version must be a UUID string") from None
        for label, key in (("branch_key", branch_key), ("beacon_key", beacon_key)):
            if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
                raise ConfigurationError(f"{label} must be 32 bytes")
        self._branch = BranchKeyMaterials(
            branch_key_id=branch_key_id, branch_key_version=version, branch_key=bytes(branch_key)
        )
        self._beacon = BeaconKeyMaterials(beacon_key_id=branch_key_id, beacon_key=bytes(beacon_key))

    def __repr__(self) -> str:
        return (
            f"StaticKeyStore(branch_key_id={self._branch.branch_key_id!r}, "
            f"branch_key_version={self._branch.branch_key_version!r})"
        )

    def get_active_branch_key(self, branch_key_id: str) -> BranchKeyMaterials:
        """The branch key, if ``branch_key_id`` is this store's."""
        if branch_key_id != self._branch.branch_key_id:
            raise ProviderError("no such branch key", material_name=str(branch_key_id))
        return self._branch

    def get_branch_key_version(
        self, branch_key_id: str, branch_key_version: str
    ) -> BranchKeyMaterials:
        """The branch key, if the id and version are this store's."""
        if (
            branch_key_id != self._branch.branch_key_id
            or branch_key_version != self._branch.branch_key_version
        ):
            raise ProviderError("no such branch key version", material_name=str(branch_key_id))
        return self._branch

    def get_beacon_key(self, branch_key_id: str) -> BeaconKeyMaterials:
        """The beacon key, if ``branch_key_id`` is this store's."""
        if branch_key_id != self._beacon.beacon_key_id:
            raise ProviderError("no such beacon key", material_name=str(branch_key_id))
        return self._beacon
