"""The retry budget and errors of a signed update() (pure; the behaviour under real contention
is in tests/functional/test_update_concurrency.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from pynamodb_encryption import ConfigurationError, PynamoDBEncryptionError
from pynamodb_encryption.orm import UpdateContentionError
from pynamodb_encryption.orm._expressions import LocalUpdateError
from pynamodb_encryption.orm._signed_update import (
    DEFAULT_UPDATE_RETRY_SECONDS,
    ConditionFailed,
    RetryBudget,
    validation_error,
)


def _model(**meta: Any) -> type[Any]:
    return type("Thing", (), {"Meta": type("Meta", (), {"table_name": "things", **meta})})


def _ccfe() -> ConditionFailed:
    error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "failed"}}
    return ConditionFailed(ClientError(error, "UpdateItem"), None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "meta",
    [
        {"update_retry_seconds": "10"},
        {"update_retry_seconds": -1},
        {"update_retry_seconds": True},
        {"update_attempts": 0},
        {"update_attempts": 2.5},
    ],
)
def test_bad_meta_settings_are_configuration_errors(meta: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=r"Meta\.update_"):
        RetryBudget.for_model(_model(**meta))


def test_default_budget_is_documented() -> None:
    assert DEFAULT_UPDATE_RETRY_SECONDS == 10.0
    RetryBudget.for_model(_model())


def test_spent_budget_raises_an_update_error_that_says_what_to_do() -> None:
    budget = RetryBudget.for_model(_model(update_attempts=2))
    budget.wait_or_raise(_ccfe(), "things")
    with pytest.raises(UpdateContentionError) as raised:
        budget.wait_or_raise(_ccfe(), "things")
    error = raised.value
    assert isinstance(error, UpdateError)
    assert isinstance(error, PynamoDBEncryptionError)
    assert error.cause_response_code == "ConditionalCheckFailedException"
    assert error.attempts == 2
    assert error.table == "things"
    assert "update_retry_seconds" in str(error)
    assert "table='things'" in str(error)


def test_zero_seconds_means_no_retry() -> None:
    with pytest.raises(UpdateContentionError):
        RetryBudget.for_model(_model(update_retry_seconds=0)).wait_or_raise(_ccfe(), "things")


def test_local_refusals_look_like_dynamodb_refusals() -> None:
    error = validation_error(LocalUpdateError("Two document paths overlap"))
    assert type(error) is UpdateError
    assert error.cause_response_code == "ValidationException"
    assert error.cause_response_message == "Two document paths overlap"
