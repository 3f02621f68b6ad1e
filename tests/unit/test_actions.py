"""Attribute actions: defaults, overrides, key attributes, immutability."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pynamodb_encryption import AttributeActions, ConfigurationError, CryptoAction

E, S, N = CryptoAction.ENCRYPT_AND_SIGN, CryptoAction.SIGN_ONLY, CryptoAction.DO_NOTHING
C = CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT
LEGACY = [N, S, E]  # the actions of the legacy format


def test_values_order_and_hashability() -> None:
    assert (N, S, E) == (0, 1, 2)
    assert N < S < E
    assert {E: "x"}[CryptoAction(2)] == "x"
    assert len({E, S, N, E}) == 3


def test_sign_and_include_keeps_the_next_value_and_is_refused_by_the_legacy_format() -> None:
    # The DB-ESDK-only action came later: 0..2 keep their values (they are stable API).
    assert C == 3
    with pytest.raises(ConfigurationError, match="DB-ESDK"):
        AttributeActions(C)
    with pytest.raises(ConfigurationError, match="DB-ESDK") as info:
        AttributeActions(S, {"pk": S, "tenant": C})
    assert info.value.attribute == "tenant"


def test_default_and_overrides() -> None:
    actions = AttributeActions()
    assert actions.default_action is E
    assert actions.action("anything") is E
    actions = AttributeActions(S, {"a": E, "b": N})
    assert actions.action("a") is E
    assert actions.action("b") is N
    assert actions.action("c") is S
    assert dict(actions.attribute_actions) == {"a": E, "b": N}


def test_overrides_are_read_only_and_copied() -> None:
    source = {"a": E}
    actions = AttributeActions(S, source)
    source["a"] = N
    assert actions.action("a") is E
    with pytest.raises(TypeError):
        actions.attribute_actions["a"] = N  # type: ignore[index]


@pytest.mark.parametrize(
    ("default", "overrides", "expected"),
    [
        (N, {}, True),
        (N, {"a": N}, True),
        (N, {"a": S}, False),
        (S, {}, False),
        (E, {"a": N}, False),
    ],
)
def test_take_no_actions(
    default: CryptoAction, overrides: dict[str, CryptoAction], expected: bool
) -> None:
    assert AttributeActions(default, overrides).take_no_actions is expected


def test_contains_action() -> None:
    actions = AttributeActions(S, {"a": E})
    assert actions.contains_action(S)
    assert actions.contains_action(E)
    assert not actions.contains_action(N)


@pytest.mark.parametrize(
    ("default", "explicit", "expected"),
    [(E, None, S), (S, None, S), (N, None, N), (E, S, S), (E, N, N), (S, N, N)],
)
def test_index_keys_are_lowered_to_sign_only(
    default: CryptoAction, explicit: CryptoAction | None, expected: CryptoAction
) -> None:
    overrides = {} if explicit is None else {"pk": explicit}
    actions = AttributeActions(default, overrides).with_index_keys(["pk", None])
    assert actions.action("pk") is expected
    assert actions.action("other") is default


def test_explicitly_encrypted_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        AttributeActions(S, {"pk": E}).with_index_keys(["pk"])
    assert info.value.attribute == "pk"


def test_with_overrides_returns_a_new_object() -> None:
    base = AttributeActions(E, {"a": S})
    changed = base.with_overrides({"a": N, "b": S})
    assert base.action("a") is S
    assert changed.action("a") is N
    assert changed.action("b") is S


@pytest.mark.parametrize(
    ("default", "overrides"),
    [(2, {}), ("ENCRYPT_AND_SIGN", {}), (E, {"a": 1}), (E, {1: E})],
)
def test_bad_arguments(default: object, overrides: dict[object, object]) -> None:
    with pytest.raises(ConfigurationError):
        AttributeActions(default, overrides)  # type: ignore[arg-type]


@given(
    st.sampled_from(LEGACY),
    st.dictionaries(st.text(max_size=5), st.sampled_from(LEGACY), max_size=5),
)
def test_equality_and_hash(default: CryptoAction, overrides: dict[str, CryptoAction]) -> None:
    a = AttributeActions(default, overrides)
    b = AttributeActions(default, dict(reversed(list(overrides.items()))))
    assert a == b
    assert hash(a) == hash(b)
    assert "AttributeActions(" in repr(a)


def test_inequality() -> None:
    assert AttributeActions(E) != AttributeActions(S)
    assert AttributeActions(E, {"a": S}) != AttributeActions(E)
    assert AttributeActions(E) != "E"
