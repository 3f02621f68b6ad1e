"""The wrapped provider on a model: a fresh AES key per item, wrapped by a key-encryption key.

Rotating the wrapping key only needs the new key for writes and both keys for reads (a
provider per key, chosen by the ``material_description`` each item carries). Runs offline:
``python examples/provider_wrapped.py``; ``main(endpoint_url)`` uses a server you already run.
"""

# --8<-- [start:imports]
from __future__ import annotations

import secrets
import sys

from pynamodb.attributes import UnicodeAttribute

from pynamodb_encryption import (
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    RsaPrivateKey,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

# --8<-- [end:imports]

# --8<-- [start:provider]
KEK_V1 = SymmetricKey.generate("AES", 256)  # key-encryption keys: from your secret store
KEK_V2 = SymmetricKey.generate("AES", 256)
SIGNING = RsaPrivateKey.generate("SHA256withRSA", 2048)  # readers need only the public half


def wrapped(kek: SymmetricKey, version: str) -> WrappedMaterialsProvider:
    return WrappedMaterialsProvider(
        wrapping_key=kek,
        signing_key=SIGNING,
        material_description={"kek-version": version},  # stored, unencrypted, with each item
    )


class RotatingProvider:
    """Writes with the newest key; reads with the key named in the item's description."""

    def __init__(self) -> None:
        self.current = "2"
        self.by_version = {"1": wrapped(KEK_V1, "1"), "2": wrapped(KEK_V2, "2")}
        self.reads: list[str] = []  # which key each read used (for the demo)

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        return self.by_version[self.current].encryption_materials(context)

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        version = context.material_description.get("kek-version", "1")
        self.reads.append(version)
        return self.by_version[version].decryption_materials(context)


ROTATING = RotatingProvider()


class Document(EncryptedModel):
    class Meta:
        table_name = "documents"
        region = "us-east-1"
        materials_provider = ROTATING
        host: str | None = None  # set to a local endpoint by main()
        aws_access_key_id: str | None = None
        aws_secret_access_key: str | None = None

    doc_id = UnicodeAttribute(hash_key=True)
    body = EncryptedAttribute(UnicodeAttribute())
    owner = SignedAttribute(UnicodeAttribute())


# --8<-- [end:provider]


def main(endpoint_url: str, *, table: str | None = None) -> dict[str, object]:
    Document.Meta.host = endpoint_url
    Document.Meta.table_name = table or f"documents-{secrets.token_hex(4)}"
    Document.Meta.aws_access_key_id = "local"  # local servers accept any credentials
    Document.Meta.aws_secret_access_key = "local"
    Document._connection = None
    Document.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        ROTATING.current = "1"
        Document("old", body="written under KEK v1", owner="ann").save()
        ROTATING.current = "2"  # rotation: new writes use KEK v2, old items still read
        Document("new", body="written under KEK v2", owner="bob").save()
        ROTATING.reads.clear()
        bodies = {doc: Document.get(doc).body for doc in ("old", "new")}
        return {"bodies": bodies, "keys_used_for_reads": list(ROTATING.reads)}
    finally:
        Document.delete_table()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1]))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url))
