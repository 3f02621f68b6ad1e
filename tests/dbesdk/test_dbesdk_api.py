"""The public DB-ESDK API keeps the contract of issue 10: names and keyword-only signatures."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import pynamodb_encryption
import pynamodb_encryption.dbesdk as dbesdk
from pynamodb_encryption.dbesdk import CryptoAction, DbeAlgorithmSuite

ECDSA_SUITE = DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384
CONTRACT: dict[str, dict[str, Any]] = {
    "DbEsdkItemEncryptor": {
        "table_name": inspect.Parameter.empty,
        "partition_key_name": inspect.Parameter.empty,
        "sort_key_name": None,
        "attribute_actions": inspect.Parameter.empty,
        "keyring": inspect.Parameter.empty,
        "allowed_unsigned_attributes": (),
        "allowed_unsigned_attribute_prefix": None,
        "algorithm_suite": ECDSA_SUITE,
    },
    "RawAesKeyring": {
        "key_namespace": inspect.Parameter.empty,
        "key_name": inspect.Parameter.empty,
        "wrapping_key": inspect.Parameter.empty,
    },
    "StaticKeyStore": {
        "branch_key_id": inspect.Parameter.empty,
        "branch_key_version": inspect.Parameter.empty,
        "branch_key": inspect.Parameter.empty,
        "beacon_key": inspect.Parameter.empty,
    },
    "HierarchicalKeyring": {
        "key_store": inspect.Parameter.empty,
        "branch_key_id": None,
        "branch_key_id_supplier": None,
        "ttl_seconds": 600,
    },
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_constructor_contract(name: str) -> None:
    assert name in dbesdk.__all__
    parameters = inspect.signature(getattr(dbesdk, name)).parameters
    for parameter, default in CONTRACT[name].items():
        assert parameters[parameter].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[parameter].default == default


def test_the_one_crypto_action_and_the_suites() -> None:
    assert dbesdk.CryptoAction is pynamodb_encryption.CryptoAction
    assert {a.name for a in CryptoAction} == {
        "ENCRYPT_AND_SIGN",
        "SIGN_ONLY",
        "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT",
        "DO_NOTHING",
    }
    assert {s.name for s in DbeAlgorithmSuite} == {
        "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384",
        "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384",
    }


def test_every_exported_name_exists() -> None:
    for name in dbesdk.__all__:
        assert getattr(dbesdk, name) is not None
    for method in ("encrypt", "decrypt", "encrypt_python", "decrypt_python", "read_header"):
        assert callable(getattr(dbesdk.DbEsdkItemEncryptor, method))
