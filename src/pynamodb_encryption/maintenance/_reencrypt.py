"""Re-encrypt a live table: key rotation, provider change, action change, plaintext adoption.

The job scans the table (optionally in parallel segments), and for each item:

1. decides whether it is *already current*: its material description matches what the new
   provider writes (see `CurrentCheck`) **and** it verifies and decrypts with the new
   configuration. Current items are left alone, which makes the job idempotent;
2. otherwise verifies and decrypts it with the old configuration (or takes it as plaintext,
   following the `UnsignedItemPolicy`), encrypts it with the new configuration, and
3. writes back the attributes that change (an UpdateItem: attributes it leaves alone are never
   rewritten) with a condition that the stored item is still the one that was read: the
   old signature (plus every attribute the signature does not cover) for signed items, every
   attribute for plaintext ones. A concurrent application write therefore makes the condition
   fail instead of being overwritten; the item is then re-read and processed again.

The implementation is split by idea: `_job` (what the job is given and reports), `_current`
(telling current items apart), `_decide` (the decision and the write condition for one item),
`_writes` (the write modes: single conditional updates, transactions), `_runner` (segments,
pages, checkpoints), `_retries` (error codes, backoff), `_distributed` (worker processes and
Apache Spark, per-segment checkpoints), `_spark_main` (the spark-submit entry point). This
module keeps the names of the single-process job together.

Nothing is collected: pages are processed as they arrive and only counters (and a capped list
of failures) are kept, so memory stays flat with the size of the table.
"""

from __future__ import annotations

from ._current import (
    VOLATILE_DESCRIPTION_KEYS,
    CurrentCheck,
    KmsKeyCheck,
    same_material_description,
    verify_only,
)
from ._job import (
    CryptoConfig,
    ItemFailure,
    ReencryptJob,
    ReencryptOptions,
    ReencryptProgress,
    ReencryptReport,
    SegmentFailure,
    UnsignedItemPolicy,
    WriteMode,
    job_for_model,
    key_to_json,
)
from ._runner import reencrypt_table

__all__ = [
    "VOLATILE_DESCRIPTION_KEYS",
    "CryptoConfig",
    "CurrentCheck",
    "ItemFailure",
    "KmsKeyCheck",
    "ReencryptJob",
    "ReencryptOptions",
    "ReencryptProgress",
    "ReencryptReport",
    "SegmentFailure",
    "UnsignedItemPolicy",
    "WriteMode",
    "job_for_model",
    "key_to_json",
    "reencrypt_table",
    "same_material_description",
    "verify_only",
]
