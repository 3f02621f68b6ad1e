"""rich stays out of the library, colours only terminals, and inspect masks values."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.cli._inspect import (
    analyze,
    document,
    kind_mismatch,
    render_text,
    report_json,
    verify_and_decrypt,
)
from pynamodb_encryption.cli._output import print_document

AES = SymmetricKey(bytes(range(32)), "AES")
HMAC = SymmetricKey(bytes(range(32, 64)), "HmacSHA256")
E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING
ITEM = {"pk": {"S": "k"}, "card": {"S": "4111 1111"}, "tier": {"S": "gold"}}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_library_import_path_never_imports_rich() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import pynamodb_encryption\n"
        "for module in pkgutil.walk_packages(pynamodb_encryption.__path__, "
        "'pynamodb_encryption.'):\n"
        "    importlib.import_module(module.name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


def _verified(show_values: bool = False) -> Any:
    provider = WrappedMaterialsProvider(wrapping_key=AES, signing_key=HMAC)
    stored = ItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions=AttributeActions(N, {"pk": S, "card": E, "tier": S}),
        materials_provider=provider,
    ).encrypt(ITEM)
    report = analyze(stored, table="t", key_names=["pk"])
    return verify_and_decrypt(
        stored, report, provider=provider, partition_key="pk", sort_key=None, actions=None
    )


def test_decrypted_values_are_masked_unless_asked_for() -> None:
    report = _verified()
    masked = render_text(report)
    assert "4111" not in masked
    assert "*** (S, 9 chars)" in masked
    assert "--show-values" in masked
    assert '"4111 1111"' in render_text(report, show_values=True)
    data = report_json(report)
    card = next(a for a in data["attributes"] if a["name"] == "card")
    assert card["decrypted"] is None
    assert "4111" not in json.dumps(data)
    card = next(
        a for a in report_json(report, show_values=True)["attributes"] if a["name"] == "card"
    )
    assert card["decrypted"] == {"S": "4111 1111"}
    # The public description travels in the JSON document.
    assert data["description"]["provider_kind"] == "wrapped"
    assert data["description"]["encrypted_attributes"] == ["card"]
    assert data["description"]["verified"] is True


def test_tables_use_rich_on_a_terminal_and_plain_text_in_a_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CI machines often say TERM=dumb (rich then draws no colour at all): act as a terminal.
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "160")
    parts = document(_verified())
    pipe = io.StringIO()
    print_document(parts, pipe)
    assert "\x1b[" not in pipe.getvalue()
    assert "+-" in pipe.getvalue()  # ASCII tables
    terminal = Terminal()
    print_document(parts, terminal)
    shown = terminal.getvalue()
    assert "╭" in shown  # rich's rounded box
    assert "\x1b[32m" in shown  # "encrypted + signed" in green
    monkeypatch.setenv("NO_COLOR", "1")
    plain_colour = Terminal()
    print_document(parts, plain_colour)
    assert "╭" in plain_colour.getvalue()
    assert "\x1b[32m" not in plain_colour.getvalue()


def test_narrow_terminals_fold_cells_instead_of_overflowing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "60")
    terminal = Terminal()
    print_document(document(_verified()), terminal)
    import re

    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", terminal.getvalue())
    assert max(len(line) for line in text.splitlines()) <= 60


def test_inspect_with_a_config_of_another_kind_names_the_writer(tmp_path: Path) -> None:
    stored = ItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions=AttributeActions(E, {"pk": S}),
        materials_provider=StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC),
    ).encrypt(ITEM)
    report = analyze(stored, table="t", key_names=["pk"])
    kms = tmp_path / "kms.json"
    kms.write_text(json.dumps({"provider": "aws-kms", "key_id": "alias/x"}))
    message = kind_mismatch(report.description, kms)
    assert message is not None
    assert "written by a 'static' provider" in message
    assert "'aws-kms' provider" in message
    same = tmp_path / "static.json"
    same.write_text(json.dumps({"provider": "static"}))
    assert kind_mismatch(report.description, same) is None
    rotation = tmp_path / "rotation.json"
    rotation.write_text(json.dumps({"provider": "key-rotation"}))
    assert kind_mismatch(report.description, rotation) is None


def test_inspect_reads_a_dbesdk_record(tmp_path: Path) -> None:
    import base64

    from test_describe_item import JAVA_RECORD

    item: dict[str, Any] = {k: {"B": base64.b64decode(v)} for k, v in JAVA_RECORD.items()}
    item["RecNum"] = {"N": "1"}
    report = analyze(item, table="t", key_names=["RecNum"])
    text = render_text(report)
    assert "AWS Database Encryption SDK" in text
    assert "aws-kms-hierarchy" in text
    assert "bd3842ff-3076-4092-9918-4395730050b8" in text
    protections = {a.name: a.protection for a in report.attributes}
    assert protections == {
        "Junk": "encrypted + signed",
        "RecNum": "signed",
        "Stuff": "encrypted + signed",
    }
    config = tmp_path / "static.json"
    config.write_text(json.dumps({"provider": "static"}))
    message = kind_mismatch(report.description, config)
    assert message is not None
    assert "Database Encryption SDK" in message
