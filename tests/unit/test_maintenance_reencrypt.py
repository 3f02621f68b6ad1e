"""Pure parts of the re-encryption job: current checks, report, CLI parsing and rendering."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import ConfigurationError, CryptoAction, EncryptionContext
from pynamodb_encryption.cli._reencrypt import (
    actions_from_args,
    register,
    render_report,
)
from pynamodb_encryption.core._md import MD_ENCRYPTED_KEY, MD_KEY_WRAP_ALGORITHM, MD_META_ID
from pynamodb_encryption.maintenance import (
    ItemFailure,
    KmsKeyCheck,
    ReencryptReport,
    SegmentFailure,
    key_to_json,
    same_material_description,
    verify_only,
)

CONTEXT = EncryptionContext(table_name="t")
texts = st.text(max_size=12)


def test_meta_version_decides() -> None:
    target = {MD_META_ID: "orders#2", MD_ENCRYPTED_KEY: "new", MD_KEY_WRAP_ALGORITHM: "AESWrap"}
    same = {MD_META_ID: "orders#2", MD_ENCRYPTED_KEY: "old", MD_KEY_WRAP_ALGORITHM: "AESWrap"}
    older = {**same, MD_META_ID: "orders#1"}
    assert same_material_description(same, target, CONTEXT)
    assert not same_material_description(older, target, CONTEXT)


def test_wrap_kind_decides() -> None:
    target = {MD_KEY_WRAP_ALGORITHM: "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"}
    assert not same_material_description({MD_KEY_WRAP_ALGORITHM: "AESWrap"}, target, CONTEXT)
    assert not same_material_description({}, target, CONTEXT)  # static item, wrapped target


@settings(max_examples=50, deadline=None)
@given(
    target=st.dictionaries(texts, texts, max_size=5),
    extra=st.dictionaries(texts, texts, max_size=5),
    wrapped=texts,
)
def test_stored_entries_beyond_the_target_and_the_wrapped_key_do_not_matter(
    target: dict[str, str], extra: dict[str, str], wrapped: str
) -> None:
    stored = {**extra, **target, MD_ENCRYPTED_KEY: wrapped}
    assert same_material_description(stored, {**target, MD_ENCRYPTED_KEY: "x"}, CONTEXT)
    assert verify_only(extra, target, CONTEXT)


@settings(max_examples=50, deadline=None)
@given(target=st.dictionaries(texts, texts, min_size=1, max_size=5), data=st.data())
def test_any_changed_stable_entry_is_stale(target: dict[str, str], data: Any) -> None:
    stable = [k for k in target if k != MD_ENCRYPTED_KEY]
    if not stable:
        return
    key = data.draw(st.sampled_from(stable))
    stored = {**target, key: target[key] + "!"}
    assert not same_material_description(stored, target, CONTEXT)


def test_kms_check_needs_a_key_id() -> None:
    with pytest.raises(ConfigurationError):
        KmsKeyCheck(object(), "")
    assert repr(KmsKeyCheck(object(), "alias/x")) == "KmsKeyCheck(key_id='alias/x')"


def test_kms_check_defers_to_the_description_for_non_kms_items() -> None:
    check = KmsKeyCheck(object(), "alias/x")  # the client is never called here
    assert check({MD_META_ID: "a#1"}, {MD_META_ID: "a#1"}, CONTEXT)
    assert not check({MD_META_ID: "a#0"}, {MD_META_ID: "a#1"}, CONTEXT)


def test_kms_check_treats_a_malformed_description_as_stale() -> None:
    check = KmsKeyCheck(object(), "alias/x")
    assert not check({MD_KEY_WRAP_ALGORITHM: "kms"}, {}, CONTEXT)
    bad = {
        MD_KEY_WRAP_ALGORITHM: "kms",
        MD_ENCRYPTED_KEY: "not base64!",
        "amzn-ddb-env-alg": "AES/256",
        "amzn-ddb-sig-alg": "HmacSHA256/256",
    }
    assert not check(bad, {}, CONTEXT)


def _report(**overrides: Any) -> ReencryptReport:
    values: dict[str, Any] = {
        "table_name": "orders",
        "dry_run": False,
        "scanned": 12,
        "reencrypted": 9,
        "already_current": 1,
        "skipped": 0,
        "failed": 2,
        "conflicts_retried": 1,
        "failures": (
            ItemFailure(
                key={"pk": {"S": "p3"}, "sk": {"N": "10"}},
                error="PlaintextItemError",
                reason="no signature",
            ),
            ItemFailure(key={"id": {"B": b"\x00\xff"}}, error="InternalServerError", reason="x"),
        ),
        "segment_failures": (),
        "elapsed_seconds": 2.0,
        "consumed_capacity": 0.0,
        "complete": True,
        "resumed": False,
    }
    values.update(overrides)
    return ReencryptReport(**values)


def test_report_json_and_ok() -> None:
    report = _report()
    assert not report.ok
    assert report.items_per_second == 6.0
    data = report.to_dict()
    json.dumps(data)  # JSON-ready, binary keys included
    assert data["failures"][1]["key"] == {"id": {"B": "AP8="}}
    assert data["failures"][0]["key"] == {"pk": {"S": "p3"}, "sk": {"N": "10"}}
    assert _report(failed=0, failures=()).ok
    assert not _report(failed=0, failures=(), complete=False).ok
    stopped = _report(
        failed=0,
        failures=(),
        segment_failures=(SegmentFailure(segment=1, error="ServiceUnavailable", reason="x"),),
    )
    assert not stopped.ok


def test_key_to_json() -> None:
    assert key_to_json({"a": {"S": "x"}, "b": {"N": "1.5"}, "c": {"B": b"hi"}}) == {
        "a": {"S": "x"},
        "b": {"N": "1.5"},
        "c": {"B": "aGk="},
    }


def test_text_report_lists_failed_keys_and_how_to_resume(tmp_path: Any) -> None:
    text = render_report(_report(complete=False), checkpoint=tmp_path / "c")
    assert "pk=p3 sk=10" in text
    assert "PlaintextItemError" in text
    assert "re-encrypted" in text
    assert "resume" in text
    assert "would re-encrypt" in render_report(_report(dry_run=True))


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["reencrypt", "--table", "t", *argv])


def test_cli_actions() -> None:
    args = _parse("--new-sign", "status, total", "--new-nothing", "notes")
    actions = actions_from_args(args, "new")
    assert actions is not None
    assert actions.action("status") is CryptoAction.SIGN_ONLY
    assert actions.action("notes") is CryptoAction.DO_NOTHING
    assert actions.action("other") is CryptoAction.ENCRYPT_AND_SIGN
    assert actions_from_args(args, "old") is None
    nothing = actions_from_args(_parse("--old-default-action", "nothing"), "old")
    assert nothing is not None
    assert nothing.take_no_actions
    with pytest.raises(ConfigurationError, match="twice"):
        actions_from_args(_parse("--new-sign", "a", "--new-encrypt", "a"), "new")


@pytest.mark.parametrize("bad", [["--segments", "0"], ["--max-items-per-second", "-1"]])
def test_cli_rejects_bad_numbers(bad: list[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(*bad)


def test_job_for_model_uses_the_stored_key_names() -> None:
    """PynamoDB's _hash_keyname is the Python field name; the job needs the attr_name that
    DynamoDB and the signature use."""
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute

    from pynamodb_encryption import (
        AttributeActions,
        EncryptedAttribute,
        EncryptedModel,
        StaticMaterialsProvider,
        SymmetricKey,
    )
    from pynamodb_encryption.maintenance import CryptoConfig, job_for_model

    provider = StaticMaterialsProvider(
        encryption_key=SymmetricKey(bytes(32), "AES"),
        signing_key=SymmetricKey(bytes(32), "HmacSHA256"),
    )

    class Renamed(EncryptedModel):
        class Meta:
            table_name = "renamed-keys"
            materials_provider = provider

        tenant = UnicodeAttribute(hash_key=True, attr_name="PK")
        seq = NumberAttribute(range_key=True, attr_name="SK")
        secret = EncryptedAttribute(UnicodeAttribute())

    job = job_for_model(
        Renamed, old=CryptoConfig(materials_provider=provider, attribute_actions=AttributeActions())
    )
    assert (job.partition_key_name, job.sort_key_name) == ("PK", "SK")
