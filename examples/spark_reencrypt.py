"""Re-encrypt a DynamoDB table on Apache Spark (Spark 3.5 or 4.x): the spark-submit entry point.

One Spark task per scan segment; each checkpoints its segment under --checkpoint-location, a
folder every executor sees or an s3:// prefix. A retried task, or this command run again
with the same location and --segments, resumes each segment after its last recorded page.

    pip install 'pynamodb-encryption[spark]'
    spark-submit --master 'local[4]' examples/spark_reencrypt.py \
        --table orders \
        --old-provider-config old.json --new-provider-config new.json \
        --checkpoint-location s3://my-bucket/reencrypt/orders --segments 64 \
        --write-mode transact

The report is printed as JSON; the exit code is 0 when every item is current.
"""

# --8<-- [start:entry]
import sys

from pynamodb_encryption.maintenance import spark_main

if __name__ == "__main__":
    sys.exit(spark_main(sys.argv[1:]))
# --8<-- [end:entry]
