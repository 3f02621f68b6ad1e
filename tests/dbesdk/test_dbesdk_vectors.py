"""AWS's DB-ESDK records, written by Java and .NET, decrypt here (or are refused).

Every positive record decrypts to its expected plaintext, every negative one raises a typed
`DecryptionError`; the counts are asserted so that a vector cannot silently drop out.
"""

from __future__ import annotations

from typing import Any

import pytest
from _dbe_vectors import comparable_item, encryptor, load, short_value, stored_item

from pynamodb_encryption.dbesdk import CryptoAction
from pynamodb_encryption.errors import DecryptionError

CASES: list[tuple[str, str, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = []
for _file in ("decrypt_java_32.json", "decrypt_dotnet_33.json"):
    for _id, _test in load(_file)["tests"].items():
        CASES.append(
            (_file, _id, _test["type"], _test["config"], _test["plaintext"], _test["encrypted"])
        )
for _index, _test in enumerate(load("iotest.json")["DecryptTests"]):
    for _n, (_encrypted, _plain) in enumerate(
        zip(_test["EncryptedRecords"], _test["PlainTextRecords"], strict=True)
    ):
        _case_id = f"{_index}.{_n}"
        CASES.append(
            ("iotest.json", _case_id, "positive-decrypt", _test["Config"], _plain, _encrypted)
        )


def test_vector_counts() -> None:
    kinds = [kind for _, _, kind, *_ in CASES]
    # 8 positive + 1 negative (Java), 11 + 1 (.NET, incl. 3 format-v2 records), 2 (iotest)
    assert kinds.count("positive-decrypt") == 21
    assert kinds.count("negative-decrypt") == 2
    assert len(kinds) == 23


@pytest.mark.parametrize(
    ("source", "test_id", "kind", "config", "plaintext", "encrypted"),
    CASES,
    ids=[f"{c[0]}:{c[1]}" for c in CASES],
)
def test_vector(
    source: str,
    test_id: str,
    kind: str,
    config: dict[str, Any],
    plaintext: dict[str, Any],
    encrypted: dict[str, Any],
) -> None:
    item = stored_item(encrypted)
    before = {k: dict(v) for k, v in item.items()}
    if kind == "positive-decrypt":
        decrypted = encryptor(config).decrypt(item)
        expected = {name: short_value(value) for name, value in plaintext.items()}
        assert comparable_item(decrypted) == comparable_item(expected)
    else:
        assert kind == "negative-decrypt"
        with pytest.raises(DecryptionError):
            encryptor(config).decrypt(item)
    assert item == before  # the input item is never changed


def test_header_is_readable_without_keys() -> None:
    _, _, _, config, _, encrypted = next(c for c in CASES if c[1] == "12")
    header = encryptor(config).read_header(stored_item(encrypted))
    assert header.version == 2
    assert header.provider_ids == ("aws-kms-hierarchy",)
    assert header.provider_infos == (b"bd3842ff-3076-4092-9918-4395730050b8",)
    # Canonical order puts shorter names first: Junk, Stuff, RecNum. The legend, not the
    # decrypt config (which says Stuff is the SIGN_AND_INCLUDE one), tells the actions.
    assert header.legend == "cec"
    assert dict(header.attribute_actions) == {
        "Junk": CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT,
        "Stuff": CryptoAction.ENCRYPT_AND_SIGN,
        "RecNum": CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT,
    }
