"""Errors of the ORM layer that must also be PynamoDB exceptions (so existing handlers catch
them); they live here because the library's error tree (``errors.py``) does not import
PynamoDB."""

from __future__ import annotations

from pynamodb.exceptions import UpdateError

from ..errors import PynamoDBEncryptionError

__all__ = ["UpdateContentionError"]


class UpdateContentionError(UpdateError, PynamoDBEncryptionError):
    """A signed ``update()`` kept losing against concurrent writers of the same item until
    its retry budget (``Meta.update_retry_seconds``) was spent; nothing was written.

    A subclass of PynamoDB's ``UpdateError`` (its ``cause_response_code`` is
    ``ConditionalCheckFailedException``), so existing handlers still catch it, and of
    `PynamoDBEncryptionError`. What to do: retry later, raise ``Meta.update_retry_seconds``,
    or move a value that many writers change at once (a counter) to an unsigned attribute or
    its own item, where DynamoDB applies updates natively without conflicts.

    Attributes:
        attempts: conditional writes tried.
        seconds: time spent, in seconds.
    """

    def __init__(
        self,
        message: str,
        *,
        cause: Exception | None = None,
        table: str | None = None,
        attempts: int = 0,
        seconds: float = 0.0,
    ) -> None:
        UpdateError.__init__(self, message, cause)
        self.table = table
        self.attempts = attempts
        self.seconds = seconds
