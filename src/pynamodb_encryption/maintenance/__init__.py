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
from ._distributed import (
    JobFactory,
    SegmentCheckpoints,
    reencrypt_table_processes,
    reencrypt_table_spark,
    run_segment_task,
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
    WriteMode,
    job_for_model,
    key_to_json,
    reencrypt_table,
    same_material_description,
    verify_only,
)
from ._rotation import KeyRotationProvider
from ._spark_main import ConfigJobFactory, spark_main

__all__ = [
    "VOLATILE_DESCRIPTION_KEYS",
    "Checkpoint",
    "ConfigJobFactory",
    "CryptoConfig",
    "CurrentCheck",
    "InsecureKeyFileWarning",
    "ItemFailure",
    "JobFactory",
    "KeyFilePolicy",
    "KeyRotationProvider",
    "KeyringConfig",
    "KmsKeyCheck",
    "ReencryptJob",
    "ReencryptOptions",
    "ReencryptProgress",
    "ReencryptReport",
    "SegmentCheckpoints",
    "SegmentFailure",
    "SegmentState",
    "TokenBucket",
    "UnsignedItemPolicy",
    "WriteMode",
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
    "reencrypt_table_processes",
    "reencrypt_table_spark",
    "run_segment_task",
    "same_material_description",
    "spark_main",
    "verify_only",
]
