"""Static typing of EncryptedModel fields (checked by mypy; ``test_mypy_*`` runs mypy on it).

On the class, a marked field is still an attribute (conditions, update actions); on an
instance it has the value type of the wrapped attribute.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.expressions.condition import Comparison
from pynamodb.expressions.update import RemoveAction, SetAction
from typing_extensions import assert_type

from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

REPO_ROOT = Path(__file__).resolve().parents[2]


class Address(MapAttribute[str, Any]):
    city = UnicodeAttribute()


class Customer(EncryptedModel):
    class Meta:
        table_name = "customers"

    pk = UnicodeAttribute(hash_key=True)
    name = EncryptedAttribute(UnicodeAttribute())
    age = EncryptedAttribute(NumberAttribute())
    photo = EncryptedAttribute(BinaryAttribute(legacy_encoding=False))
    vip = EncryptedAttribute(BooleanAttribute())
    tags = EncryptedAttribute(UnicodeSetAttribute())
    born = EncryptedAttribute(UTCDateTimeAttribute())
    visits = EncryptedAttribute(ListAttribute[Any]())
    address = SignedAttribute(Address())  # type: ignore[no-untyped-call]  # PynamoDB's own
    status = SignedAttribute(UnicodeAttribute())


def _static_checks(customer: Customer) -> None:
    """Never called: mypy checks these lines."""
    # On the class: the marker itself (an Attribute).
    assert_type(Customer.name, EncryptedAttribute[str])
    assert_type(Customer.status, SignedAttribute[str])
    assert_type(Customer.age, EncryptedAttribute[float])
    assert_type(Customer.status == "active", Comparison)
    assert_type(Customer.address, SignedAttribute[Address])
    assert_type(Customer.status.set("x"), SetAction | RemoveAction)
    # On an instance: the inner value type.
    assert_type(customer.name, str)
    assert_type(customer.age, float)
    assert_type(customer.photo, bytes)
    assert_type(customer.vip, bool)
    assert_type(customer.tags, set[str])
    assert_type(customer.born, datetime)
    assert_type(customer.visits, list[Any])
    assert_type(customer.address, Address)
    assert_type(customer.status, str)
    # The usual PynamoDB class methods keep returning the model type.
    assert_type(Customer.get("k"), Customer)
    for item in Customer.query("k"):
        assert_type(item, Customer)
    customer.name = "new name"


def _run_mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(REPO_ROOT / "pyproject.toml"),
            "--no-incremental",
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
        timeout=300,
    )


def test_mypy_accepts_model_types() -> None:
    result = _run_mypy(Path(__file__))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_rejects_wrong_value_types(tmp_path: Path) -> None:
    bad = tmp_path / "bad_model_types.py"
    bad.write_text(
        textwrap.dedent(
            """
            from pynamodb.attributes import NumberAttribute, UnicodeAttribute
            from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel

            class Thing(EncryptedModel):
                pk = UnicodeAttribute(hash_key=True)
                secret = EncryptedAttribute(UnicodeAttribute())
                amount = EncryptedAttribute(NumberAttribute())

            def use(thing: Thing) -> None:
                wrong: int = thing.secret
                also_wrong: str = thing.amount
            """
        )
    )
    result = _run_mypy(bad)
    assert result.returncode == 1
    assert 'Incompatible types in assignment (expression has type "str"' in result.stdout
    assert 'Incompatible types in assignment (expression has type "float"' in result.stdout
