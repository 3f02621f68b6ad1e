"""The pieces of a signed ``update()``: which actions DynamoDB can apply itself, the conditional
UpdateItem that re-signs an item without rewriting its unsigned attributes, and the bounded,
jittered retry under contention.

Why an UpdateItem and not a put: attributes outside the signature (``DO_NOTHING``) may be
changed at any time by other writers (a native counter, another service). A put of the whole
item read a moment ago would silently undo such writes; an UpdateItem that sets only the
signed and encrypted attributes, conditioned on the signature that was read, cannot.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.constants import ALL_NEW, ALL_OLD, UPDATE_ITEM
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action

from ..core import MATERIAL_DESCRIPTION_ATTRIBUTE, SIGNATURE_ATTRIBUTE, CryptoAction
from ..errors import ConfigurationError
from ._errors import UpdateContentionError
from ._expressions import LocalUpdateError, operand_names, target_name

if TYPE_CHECKING:
    from ._plan import ClassPlan

__all__ = [
    "DEFAULT_UPDATE_RETRY_SECONDS",
    "RESERVED",
    "ConditionFailed",
    "RetryBudget",
    "SignedWrite",
    "SplitActions",
    "equals_or_absent",
    "send_update",
    "validation_error",
]

_NOTHING = CryptoAction.DO_NOTHING
_CCFE = "ConditionalCheckFailedException"
RESERVED = frozenset((SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE))

#: Seconds a signed ``update()`` keeps retrying against concurrent writers of the same item.
DEFAULT_UPDATE_RETRY_SECONDS = 10.0
# Full-jitter exponential backoff (AWS architecture blog): first waits of a few ms, because a
# lost race on one item is usually won at the next attempt; capped so a waiting writer
# re-checks often.
_BACKOFF_BASE = 0.004
_BACKOFF_CAP = 0.25


class SplitActions:
    """The caller's actions, sorted by who applies them.

    - ``native``: touch and read only unsigned attributes; sent to DynamoDB as they are;
    - ``local_signed``: write a signed or encrypted attribute; applied to the decrypted item;
    - ``local_unsigned``: write an unsigned attribute from a signed or encrypted one (``SET
      note = name``); the value is computed locally and set natively.

    ``read_unsigned``: unsigned attributes the local actions read (guarded by the write's
    condition, so the re-signed values are never computed from a stale copy).
    """

    __slots__ = ("local_signed", "local_unsigned", "native", "read_unsigned")

    def __init__(
        self, plan: ClassPlan, actions: Iterable[Action], reserved: frozenset[str] = RESERVED
    ) -> None:
        self.native: list[Action] = []
        self.local_signed: list[Action] = []
        self.local_unsigned: list[Action] = []
        self.read_unsigned: set[str] = set()

        def unsigned(name: str) -> bool:
            return name not in reserved and plan.action(name) is _NOTHING

        for action in actions:
            target = target_name(action)
            reads = operand_names(action)
            if unsigned(target) and all(unsigned(n) for n in reads):
                self.native.append(action)
                continue
            if unsigned(target):
                self.local_unsigned.append(action)
            else:
                self.local_signed.append(action)
            self.read_unsigned |= {n for n in reads if unsigned(n)}

    @property
    def local(self) -> list[Action]:
        return self.local_signed + self.local_unsigned


def equals_or_absent(name: str, value: Any) -> Condition:
    path = Path([name])
    return path.does_not_exist() if value is None else path == Value(value)


def validation_error(exc: LocalUpdateError) -> UpdateError:
    """The error DynamoDB's ValidationException becomes in PynamoDB, for an update refused
    locally: same class, same ``cause_response_code``."""
    message = str(exc)
    error = {"Error": {"Code": "ValidationException", "Message": message}}
    cause = ClientError(error, "UpdateItem")  # type: ignore[arg-type]
    return UpdateError(f"Failed to update item: {message}", cause)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedWrite:
    """One conditional UpdateItem of a signed update, and how to read its outcome."""

    plan: ClassPlan
    raw: dict[str, Any] | None
    guard: Condition
    #: Attributes whose values the guard pins (the signature, unsigned operands...).
    guard_names: frozenset[str]
    actions: list[Action]
    new_plaintext: dict[str, Any]
    #: The attribute that identifies the written signed part (legacy signature, DB-ESDK
    #: footer; None for a plaintext write) and its new value.
    signature_name: str | None
    signature: Any
    #: The format's reserved attributes.
    reserved: frozenset[str] = RESERVED
    #: The new signature covers fresh randomness, so no other write can produce it.
    unique: bool

    def landed(self, current: dict[str, Any] | None) -> bool:
        """Whether ``current`` is the item this very write produced (an earlier attempt of
        the request applied, its answer lost).

        Only decidable when the signature is unique to this write: it is when the item holds
        an encrypted value (fresh IV per write). A signature over plaintext only is
        deterministic, and another writer that applied the same change to the same item
        produces the same one; then the write counts as not applied and is retried, as
        botocore retries a native UpdateItem (at least once, never lost).
        """
        name = self.signature_name
        if current is None or name is None or self.signature is None or not self.unique:
            return False
        if self.raw is not None and self.raw.get(name) == self.signature:
            return False
        return bool(current.get(name) == self.signature)

    def unchanged(self, current: dict[str, Any] | None) -> bool:
        """Whether everything the guard pins is still as read (then the caller's own
        condition or the version check is what failed)."""
        if (current is None) != (self.raw is None):
            return False
        if current is None or self.raw is None:
            return True
        return all(current.get(n) == self.raw.get(n) for n in self.guard_names)

    def result(self, returned: dict[str, Any], model: Any) -> dict[str, Any]:
        """The new plaintext item: the signed part as written, the unsigned part as DynamoDB
        returned it (with every concurrent write applied)."""
        name = self.signature_name
        if name is not None and returned.get(name) != self.signature:  # pragma: no cover
            result: dict[str, Any] = model._pde_decrypt(returned)
            return result
        action = self.plan.action
        reserved = self.reserved
        plaintext = {k: v for k, v in self.new_plaintext.items() if action(k) is not _NOTHING}
        for name, value in returned.items():
            if name not in reserved and action(name) is _NOTHING:
                plaintext[name] = value
        return plaintext


class ConditionFailed(Exception):
    """The UpdateItem's condition failed; ``item`` is the item as it was then (ALL_OLD), or
    ``None`` when the backend did not return it."""

    def __init__(self, cause: Exception, item: dict[str, Any] | None) -> None:
        super().__init__("conditional check failed")
        self.cause = cause
        self.item = item


def send_update(
    connection: Any,
    hash_key: Any,
    range_key: Any,
    actions: list[Action],
    condition: Condition,
) -> dict[str, Any]:
    """UpdateItem with ``ALL_NEW`` and, on a failed condition, the stored item (``ALL_OLD``),
    which saves a read before the next attempt. Throttling and 5xx are retried by botocore.

    Raises:
        ConditionFailed: the condition failed.
        pynamodb.exceptions.UpdateError: any other failure.
    """
    base = connection.connection
    kwargs = base.get_operation_kwargs(
        table_name=connection.table_name,
        hash_key=hash_key,
        range_key=range_key,
        actions=actions,
        condition=condition,
        return_values=ALL_NEW,
        return_values_on_condition_failure=ALL_OLD,
    )
    try:
        data: dict[str, Any] = base.dispatch(UPDATE_ITEM, kwargs)
    except (BotoCoreError, ClientError) as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code == _CCFE:
            # PynamoDB's error keeps only the error part; the item is on the botocore one.
            original = exc.__cause__ if isinstance(exc.__cause__, ClientError) else exc
            item = getattr(original, "response", {}).get("Item")
            raise ConditionFailed(exc, item if isinstance(item, dict) else None) from exc
        raise UpdateError(f"Failed to update item: {exc}", exc) from exc
    return data


class RetryBudget:
    """Jittered exponential backoff inside a time budget (and an optional attempt cap)."""

    __slots__ = ("_attempts", "_deadline", "_max_attempts", "_seconds", "_start")

    def __init__(self, seconds: float, max_attempts: int | None) -> None:
        self._seconds = seconds
        self._max_attempts = max_attempts
        self._start = time.monotonic()
        self._deadline = self._start + seconds
        self._attempts = 1

    @classmethod
    def for_model(cls, model: type[Any]) -> RetryBudget:
        meta = model.Meta
        seconds = getattr(meta, "update_retry_seconds", DEFAULT_UPDATE_RETRY_SECONDS)
        attempts = getattr(meta, "update_attempts", None)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ConfigurationError(
                f"{model.__name__}.Meta.update_retry_seconds must be a number of seconds >= 0",
                table=getattr(meta, "table_name", None),
            )
        if attempts is not None and (
            isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1
        ):
            raise ConfigurationError(
                f"{model.__name__}.Meta.update_attempts must be a positive integer or None",
                table=getattr(meta, "table_name", None),
            )
        return cls(float(seconds), attempts)

    def wait_or_raise(self, failed: ConditionFailed, table: str | None) -> None:
        now = time.monotonic()
        out_of_attempts = self._max_attempts is not None and self._attempts >= self._max_attempts
        if now >= self._deadline or out_of_attempts:
            spent = now - self._start
            raise UpdateContentionError(
                f"Failed to update item: it kept changing under concurrent writers "
                f"({self._attempts} attempts in {spent:.1f} s); retry later, raise "
                "Meta.update_retry_seconds, or keep a value that many writers change at once "
                "in an unsigned attribute (updated natively) or in its own item",
                cause=failed.cause,
                table=table,
                attempts=self._attempts,
                seconds=spent,
            ) from failed
        ceiling = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** min(self._attempts, 16))
        time.sleep(min(random.uniform(0, ceiling), self._deadline - now))
        self._attempts += 1
