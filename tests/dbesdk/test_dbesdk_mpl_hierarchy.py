"""AWS's material providers (test-only) as the oracle for the hierarchical keyring.

AWS's own `KeyStore` creates a branch key in a key-store table (DynamoDB Local or moto) under
a moto KMS key, and AWS's hierarchical keyring wraps and unwraps data keys with it. Our
`HierarchicalKeyring`, given the same branch key material through `StaticKeyStore`, opens
their encrypted data keys and they open ours, with the same data key and footer HMAC key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

mpl_client = pytest.importorskip("aws_cryptographic_material_providers.mpl")
mpl_config = pytest.importorskip("aws_cryptographic_material_providers.mpl.config")
mpl_models = pytest.importorskip("aws_cryptographic_material_providers.mpl.models")
ks_client = pytest.importorskip("aws_cryptographic_material_providers.keystore")
ks_config = pytest.importorskip("aws_cryptographic_material_providers.keystore.config")
ks_models = pytest.importorskip("aws_cryptographic_material_providers.keystore.models")

from pynamodb_encryption.dbesdk import (  # noqa: E402
    DbeAlgorithmSuite,
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    EncryptedDataKey,
    HierarchicalKeyring,
    StaticKeyStore,
)

SUITE = DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384
CONTEXT = {
    "aws-crypto-table-name": "Orders",
    "aws-crypto-partition-name": "pk",
    "aws-crypto-attr.pk": "AAFh",
    "é": "𐀁",
}


@pytest.fixture
def theirs(dynamodb_client: Any, kms_client: Any, kms_key_arn: str) -> Iterator[dict[str, Any]]:
    """AWS's key store with one fresh branch key, their keyring over it, and its material."""
    table = f"dbe-keystore-{uuid.uuid4().hex[:12]}"
    store = ks_client.KeyStore(
        ks_config.KeyStoreConfig(
            ddb_table_name=table,
            kms_configuration=ks_models.KMSConfigurationKmsKeyArn(kms_key_arn),
            logical_key_store_name=table,
            ddb_client=dynamodb_client,
            kms_client=kms_client,
        )
    )
    store.create_key_store(ks_models.CreateKeyStoreInput())
    try:
        branch_key_id = store.create_key(ks_models.CreateKeyInput()).branch_key_identifier
        active = store.get_active_branch_key(
            ks_models.GetActiveBranchKeyInput(branch_key_identifier=branch_key_id)
        ).branch_key_materials
        beacon = store.get_beacon_key(
            ks_models.GetBeaconKeyInput(branch_key_identifier=branch_key_id)
        ).beacon_key_materials
        mpl = mpl_client.AwsCryptographicMaterialProviders(mpl_config.MaterialProvidersConfig())
        keyring = mpl.create_aws_kms_hierarchical_keyring(
            mpl_models.CreateAwsKmsHierarchicalKeyringInput(
                key_store=store, branch_key_id=branch_key_id, ttl_seconds=600
            )
        )
        ours = HierarchicalKeyring(
            key_store=StaticKeyStore(
                branch_key_id=branch_key_id,
                branch_key_version=active.branch_key_version,
                branch_key=active.branch_key,
                beacon_key=beacon.beacon_key,
            ),
            branch_key_id=branch_key_id,
        )
        yield {"mpl": mpl, "keyring": keyring, "ours": ours}
    finally:
        dynamodb_client.delete_table(TableName=table)


def _suite_id() -> Any:
    return mpl_models.AlgorithmSuiteIdDBE(mpl_models.DBEAlgorithmSuiteId.__dict__[SUITE.name])


def test_they_open_our_hierarchy_edks(theirs: dict[str, Any]) -> None:
    materials = theirs["ours"].on_encrypt(
        DbeEncryptionMaterials(algorithm_suite=SUITE, encryption_context=CONTEXT)
    )
    (edk,) = materials.encrypted_data_keys
    request = theirs["mpl"].initialize_decryption_materials(
        mpl_models.InitializeDecryptionMaterialsInput(
            algorithm_suite_id=_suite_id(),
            encryption_context=CONTEXT,
            required_encryption_context_keys=[],
        )
    )
    result = (
        theirs["keyring"]
        .on_decrypt(
            mpl_models.OnDecryptInput(
                materials=request,
                encrypted_data_keys=[
                    mpl_models.EncryptedDataKey(
                        key_provider_id=edk.provider_id.decode(),
                        key_provider_info=edk.provider_info,
                        ciphertext=edk.ciphertext,
                    )
                ],
            )
        )
        .materials
    )
    assert result.plaintext_data_key == materials.plaintext_data_key
    assert result.symmetric_signing_key == materials.symmetric_signing_keys[0]


def test_we_open_their_hierarchy_edks(theirs: dict[str, Any]) -> None:
    request = theirs["mpl"].initialize_encryption_materials(
        mpl_models.InitializeEncryptionMaterialsInput(
            algorithm_suite_id=_suite_id(),
            encryption_context=CONTEXT,
            required_encryption_context_keys=[],
        )
    )
    result = theirs["keyring"].on_encrypt(mpl_models.OnEncryptInput(materials=request)).materials
    edks = [
        EncryptedDataKey(
            provider_id=e.key_provider_id.encode(),
            provider_info=e.key_provider_info,
            ciphertext=e.ciphertext,
        )
        for e in result.encrypted_data_keys
    ]
    assert len(edks[0].ciphertext) == 140
    got = theirs["ours"].on_decrypt(
        DbeDecryptionMaterials(algorithm_suite=SUITE, encryption_context=CONTEXT), edks
    )
    assert got.plaintext_data_key == result.plaintext_data_key
    assert got.symmetric_signing_key == result.symmetric_signing_keys[0]
