"""DynamoDB error codes and the retry policy shared by the job's reads and writes."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

__all__ = ["CONDITION_FAILED", "RETRYABLE_CODES", "backoff", "error_code", "retryable"]

#: Error codes worth retrying after a pause (throttling and server-side faults).
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
CONDITION_FAILED = "ConditionalCheckFailedException"


def error_code(exc: BaseException) -> str | None:
    """The DynamoDB (or KMS) error code of a botocore ``ClientError``, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping):
            code = error.get("Code")
            return str(code) if code is not None else None
    return None


def retryable(exc: BaseException, code: str | None) -> bool:
    """Throttling, a server fault, or a connection-level failure."""
    if code is not None:
        return code in RETRYABLE_CODES
    # Connection-level failures (botocore's EndpointConnectionError, timeouts...).
    from botocore.exceptions import BotoCoreError

    return isinstance(exc, BotoCoreError)


def backoff(base_seconds: float, attempt: int) -> None:
    """Sleep before retry number ``attempt`` (exponential, jittered, at most 2 s)."""
    delay = min(2.0, base_seconds * (2 ** (attempt - 1)))
    time.sleep(delay * (0.5 + random.random() / 2))
