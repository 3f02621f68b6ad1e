"""The reference library's published test vectors, reproduced byte for byte and decrypted.

* serialize/deserialize, material description and string-to-sign vectors: exact bytes.
* every offline ``encrypted_item`` scenario (Python- and Java-written, static, wrapped AES,
  wrapped RSA, most recent): each item verifies and decrypts to its plaintext through the
  public API.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from _vectors import (
    ACTION_NAMES,
    ITEMS_PER_SCENARIO,
    OFFLINE_SCENARIOS,
    Scenario,
    build_provider,
    check_data_items,
    decode_ddb_value,
    load_json,
    load_key_specs,
    load_scenarios,
    meta_id,
    meta_providers,
    offline,
)

from pynamodb_encryption import AttributeActions, CryptoAction, decrypt_item
from pynamodb_encryption.core._codec import deserialize, serialize
from pynamodb_encryption.core._encryptor import string_to_sign
from pynamodb_encryption.core._md import (
    decode_material_description,
    encode_material_description,
)


def _cases(vectors_dir: Path, name: str) -> list[dict[str, Any]]:
    cases = load_json(vectors_dir / name)
    assert cases, f"{name} is empty"
    return list(cases)


def test_serialize_attribute_vectors(reference_vectors_dir: Path) -> None:
    cases = _cases(reference_vectors_dir, "serialize_attribute.json")
    for case in cases:
        attribute = decode_ddb_value(case["attribute"])
        assert serialize(attribute) == base64.b64decode(case["serialized"]), case


def test_deserialize_attribute_vectors(reference_vectors_dir: Path) -> None:
    cases = _cases(reference_vectors_dir, "deserialize_attribute.json")
    for case in cases:
        expected = decode_ddb_value(case["attribute"])
        raw = base64.b64decode(case["serialized"])
        assert deserialize(raw) == expected, case
        # Deserialize vectors hold canonical values: serializing gives the same bytes back.
        assert serialize(expected) == raw, case


def test_material_description_vectors(reference_vectors_dir: Path) -> None:
    cases = _cases(reference_vectors_dir, "material_description.json")
    for case in cases:
        raw = base64.b64decode(case["serialized"])
        assert encode_material_description(case["material_description"]) == raw
        assert decode_material_description(raw) == case["material_description"]
        # Writing is independent of the input order.
        reversed_md = dict(reversed(list(case["material_description"].items())))
        assert encode_material_description(reversed_md) == raw


def test_string_to_sign_vectors(reference_vectors_dir: Path) -> None:
    cases = _cases(reference_vectors_dir, "string_to_sign.json")
    for case in cases:
        item = {name: decode_ddb_value(entry["value"]) for name, entry in case["item"].items()}
        overrides = {name: ACTION_NAMES[entry["action"]] for name, entry in case["item"].items()}
        actions = AttributeActions(CryptoAction.DO_NOTHING, overrides)
        expected = base64.b64decode(case["string_to_sign"])
        assert string_to_sign(item, case["table"], actions) == expected, case


# -------------------------------------------------------------------------------------------
# Encrypted items


def _offline_scenarios(vectors_dir: Path) -> list[Scenario]:
    return offline(load_scenarios(vectors_dir))


def test_scenario_inventory(reference_vectors_dir: Path) -> None:
    """Exactly 18 offline scenarios: 9 per writer (static x3, wrapped RSA x3, wrapped AES x1,
    most recent x2). A change here would mean some scenario is silently not exercised."""
    scenarios = _offline_scenarios(reference_vectors_dir)
    assert len(scenarios) == OFFLINE_SCENARIOS
    kinds: dict[tuple[str, str], int] = {}
    for s in scenarios:
        kinds[(s.ciphertext.parent.name, s.provider.provider)] = (
            kinds.get((s.ciphertext.parent.name, s.provider.provider), 0) + 1
        )
    for writer in ("python", "java"):
        assert kinds[(writer, "static")] == 3
        assert kinds[(writer, "wrapped")] == 4
        assert kinds[(writer, "most_recent")] == 2


def _check_scenario(scenario: Scenario, vectors_dir: Path) -> int:
    keys = load_key_specs(vectors_dir)
    if scenario.provider.provider == "most_recent":
        providers = meta_providers(scenario, keys)
        assert scenario.material_name is not None
        assert any(name.startswith(f"{scenario.material_name}#") for name in providers)

        def provider_for(item: Mapping[str, Any]) -> Any:
            identifier = meta_id(item)
            if identifier is None:
                # The DO_NOTHING item carries no description and never asks for keys.
                return next(iter(providers.values()))
            # The provider loads the version named in the item, under its own material name.
            _, _, version = identifier.rpartition("#")
            return providers[f"{scenario.material_name}#{version}"]

        result = check_data_items(scenario, provider_for)
    else:
        provider = build_provider(scenario.provider, keys)
        result = check_data_items(scenario, lambda _item: provider)
    assert result.checked == ITEMS_PER_SCENARIO, (scenario.id, result)
    return result.checked


def test_every_offline_scenario_decrypts(reference_vectors_dir: Path) -> None:
    """All 18 offline scenarios, counted, so a skip or an empty file cannot hide."""
    scenarios = _offline_scenarios(reference_vectors_dir)
    exercised = 0
    checked_items = 0
    failures = []
    for scenario in scenarios:
        try:
            checked_items += _check_scenario(scenario, reference_vectors_dir)
        except AssertionError as exc:
            failures.append(f"{scenario.id}: {exc}")
            continue
        exercised += 1
    assert not failures, "\n".join(failures)
    assert exercised == OFFLINE_SCENARIOS
    assert checked_items == OFFLINE_SCENARIOS * ITEMS_PER_SCENARIO


@pytest.mark.parametrize("writer", ["python", "java"])
def test_java_and_python_scenarios_present(reference_vectors_dir: Path, writer: str) -> None:
    names = {s.ciphertext.stem for s in _offline_scenarios(reference_vectors_dir)}
    writers = {s.ciphertext.parent.name for s in _offline_scenarios(reference_vectors_dir)}
    assert writer in writers
    assert {"static-aes-hmac-1", "wrapped-rsa-rsa-1", "wrapped-aes-hmac-1"} <= names


def test_a_tampered_vector_item_is_rejected(reference_vectors_dir: Path) -> None:
    """Sanity check of the harness: the same comparison fails when the item is changed."""
    scenario = next(
        s for s in _offline_scenarios(reference_vectors_dir) if s.id == "python/static-aes-hmac-1"
    )
    keys = load_key_specs(reference_vectors_dir)
    provider = build_provider(scenario.provider, keys)
    calls = {"n": 0}

    def tampering_decrypt(item: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        calls["n"] += 1
        if kwargs["table_name"] == "TableName" and "stringValue" in item and calls["n"] > 12:
            return {**decrypt_item(item, **kwargs), "stringValue": {"S": "changed"}}
        return decrypt_item(item, **kwargs)

    with pytest.raises(AssertionError, match="decrypted differently"):
        check_data_items(scenario, lambda _item: provider, decrypt=tampering_decrypt)
