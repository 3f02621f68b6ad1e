"""Maintenance jobs shared by the CLI and library callers: provider configuration, key
rotation and re-encryption of live tables."""

from ._checkpoint import Checkpoint, SegmentState
from ._config import (
    InsecureKeyFileWarning,
    KeyFilePolicy,
    current_check_for_config,
    load_key,
    provider_config_schema,
    provider_from_config,
    read_provider_config,
)
from ._keyring_config import KeyringConfig, is_keyring_config, keyring_from_config
from ._ratelimit import TokenBucket
from ._reencrypt import (
    VOLATILE_DESCRIPTION_KEYS,
    CryptoConfig,
    CurrentCheck,
    ItemFailure,
    KmsKeyCheck,
    ReencryptJob,
    ReencryptOptions,
    ReencryptProgress,
    ReencryptReport,
    SegmentFailure,
    UnsignedItemPolicy,
    job_for_model,
    key_to_json,
    reencrypt_table,
    same_material_description,
    verify_only,
)
from ._rotation import KeyRotationProvider

__all__ = [
    "VOLATILE_DESCRIPTION_KEYS",
    "Checkpoint",
    "CryptoConfig",
    "CurrentCheck",
    "InsecureKeyFileWarning",
    "ItemFailure",
    "KeyFilePolicy",
    "KeyRotationProvider",
    "KeyringConfig",
    "KmsKeyCheck",
    "ReencryptJob",
    "ReencryptOptions",
    "ReencryptProgress",
    "ReencryptReport",
    "SegmentFailure",
    "SegmentState",
    "TokenBucket",
    "UnsignedItemPolicy",
    "current_check_for_config",
    "is_keyring_config",
    "job_for_model",
    "key_to_json",
    "keyring_from_config",
    "load_key",
    "provider_config_schema",
    "provider_from_config",
    "read_provider_config",
    "reencrypt_table",
    "same_material_description",
    "verify_only",
]
