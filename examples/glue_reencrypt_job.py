"""An AWS Glue 5 (Spark 3.5, Python 3.11) job script that re-encrypts a DynamoDB table.

Job parameters (Glue passes them as ``--name value``):

* ``--additional-python-modules pynamodb-encryption``
* ``--table orders``
* ``--old_provider_config s3://my-bucket/config/old.json`` (optional: adopting plaintext)
* ``--new_provider_config s3://my-bucket/config/new.json``
* ``--checkpoint_location s3://my-bucket/reencrypt/orders``
* ``--segments 64`` and ``--write_mode put`` (or ``transact``)

Provider configurations should name KMS keys or a most-recent meta store (no key files): the
job's IAM role then needs DynamoDB Scan/PutItem (and TransactWriteItems), KMS and S3 access.
Re-running the job with the same checkpoint location resumes it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import boto3
from awsglue.context import GlueContext  # provided by the Glue runtime
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from pynamodb_encryption.maintenance import spark_main

REQUIRED = ["table", "new_provider_config", "checkpoint_location", "segments", "write_mode"]


def fetch(uri: str, folder: Path) -> str:
    """Copy an s3:// provider configuration to a local file (spark_main reads files)."""
    bucket, _, key = uri[len("s3://") :].partition("/")
    target = folder / Path(key).name
    boto3.client("s3").download_file(bucket, key, str(target))
    return str(target)


def main() -> int:
    optional = ["old_provider_config"] if "--old_provider_config" in sys.argv else []
    args = getResolvedOptions(sys.argv, REQUIRED + optional)
    glue = GlueContext(SparkContext.getOrCreate())
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        argv = [
            "--table", args["table"],
            "--new-provider-config", fetch(args["new_provider_config"], folder),
            "--checkpoint-location", args["checkpoint_location"],
            "--segments", args["segments"],
            "--write-mode", args["write_mode"],
        ]  # fmt: skip
        if optional:
            argv += ["--old-provider-config", fetch(args["old_provider_config"], folder)]
        return spark_main(argv, spark=glue.spark_session)


if __name__ == "__main__":
    sys.exit(main())
