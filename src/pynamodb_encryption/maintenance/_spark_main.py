"""The ``spark-submit`` entry point of the re-encryption job (see ``examples/spark_reencrypt.py``
and ``examples/glue_reencrypt_job.py``).

The provider configurations are read on the driver and shipped to the executors inside the
job factory, so the executors need no copy of the configuration files. Keys should come from
KMS, a most-recent meta store or environment variables there: a key *file* named in a
configuration must exist at the same path on every executor.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import AttributeActions
from ..errors import PynamoDBEncryptionError
from ._config import provider_from_config
from ._distributed import reencrypt_table_spark
from ._job import CryptoConfig, ReencryptJob, ReencryptOptions, UnsignedItemPolicy, WriteMode

__all__ = ["ConfigJobFactory", "spark_main"]


@dataclass(frozen=True, slots=True)
class ConfigJobFactory:
    """A picklable job factory from provider configurations (JSON mappings).

    Calling it (on every worker) builds a boto3 DynamoDB client and the job. Every attribute
    but the keys is encrypted and signed on both sides; write your own factory for other
    actions (any picklable callable returning ``(dynamodb_client, ReencryptJob)``).
    """

    table_name: str
    old_config: Mapping[str, Any] | None
    new_config: Mapping[str, Any] | None
    base_dir: str = "."
    old_base_dir: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    plaintext_policy: UnsignedItemPolicy = UnsignedItemPolicy.REJECT

    def __call__(self) -> tuple[Any, ReencryptJob]:
        import boto3
        from botocore.config import Config

        # The job builds every request itself; botocore's validation of them is ~15% of the
        # client CPU of a transactional job.
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            config=Config(parameter_validation=False),
        )

        def provider(config: Mapping[str, Any] | None, base_dir: str) -> Any:
            if config is None:
                return None
            return provider_from_config(config, base_dir=base_dir, dynamodb_client=client)

        return client, ReencryptJob(
            table_name=self.table_name,
            old=CryptoConfig(
                materials_provider=provider(self.old_config, self.old_base_dir or self.base_dir),
                attribute_actions=AttributeActions(),
            ),
            new=CryptoConfig(
                materials_provider=provider(self.new_config, self.base_dir),
                attribute_actions=AttributeActions(),
            ),
            plaintext_policy=self.plaintext_policy,
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spark_reencrypt.py",
        description="Re-encrypt a DynamoDB table on Apache Spark: one task per scan segment, "
        "each checkpointed under --checkpoint-location (a shared folder or s3://bucket/prefix).",
    )
    parser.add_argument("--table", required=True)
    parser.add_argument("--old-provider-config", type=Path, metavar="FILE")
    parser.add_argument("--new-provider-config", type=Path, metavar="FILE", required=True)
    parser.add_argument("--checkpoint-location", required=True, metavar="PATH_OR_S3_URI")
    parser.add_argument(
        "--segments", type=int, default=0, help="scan segments = Spark tasks (default: 2x cores)"
    )
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument(
        "--write-mode",
        choices=[mode.value for mode in WriteMode],
        default=WriteMode.PUT.value,
        help="put: one conditional PutItem per item; transact: up to 100 per "
        "TransactWriteItems (fewer requests, twice the write capacity units)",
    )
    parser.add_argument(
        "--plaintext", choices=[p.value for p in UnsignedItemPolicy], default="reject"
    )
    parser.add_argument("--max-capacity-per-second", type=float, default=None)
    parser.add_argument("--endpoint-url", default=None)
    parser.add_argument("--region", default=None)
    return parser


def _read(path: Path | None) -> Mapping[str, Any] | None:
    if path is None:
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: a provider configuration is a JSON object")
    return data


def spark_main(argv: Sequence[str] | None = None, *, spark: Any = None) -> int:
    """Run the job on Spark and print its report as JSON; 0 when every item is current.

    Args:
        argv: command-line arguments (default: ``sys.argv[1:]``; ``--help`` lists them).
        spark: a ``SparkSession`` (default: ``SparkSession.builder.getOrCreate()``).
    """
    args = _parser().parse_args(argv)
    factory = ConfigJobFactory(
        table_name=args.table,
        old_config=_read(args.old_provider_config),
        new_config=_read(args.new_provider_config),
        # Relative key paths resolve against each configuration's own folder.
        base_dir=str(args.new_provider_config.resolve().parent),
        old_base_dir=(
            str(args.old_provider_config.resolve().parent)
            if args.old_provider_config is not None
            else None
        ),
        endpoint_url=args.endpoint_url,
        region=args.region,
        plaintext_policy=UnsignedItemPolicy(args.plaintext),
    )
    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.appName(f"reencrypt {args.table}").getOrCreate()
    options = ReencryptOptions(
        segments=max(1, args.segments),
        page_size=args.page_size,
        write_mode=WriteMode(args.write_mode),
        max_capacity_per_second=args.max_capacity_per_second,
    )
    try:
        report = reencrypt_table_spark(
            spark, factory, options, checkpoint_location=args.checkpoint_location
        )
    except PynamoDBEncryptionError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(report.to_dict(), indent=1) + "\n")
    return 0 if report.ok else 1
