"""DB-ESDK engine benchmark: our DB-ESDK format vs the raw-crypto floor, beside our legacy format.

One run times, on the same items:

* **DB-ESDK**: ``DbEsdkItemEncryptor.encrypt/decrypt`` (DynamoDB JSON), both algorithm suites
  (HMAC-SHA384 only; HMAC-SHA384 + ECDSA P-384, the default), with the raw AES keyring and
  with the hierarchical keyring over a static branch key (warm cache, as in a serving process);
* **raw floor**: only the primitives the DB-ESDK format requires, straight on
  ``cryptography``/``hashlib``/``hmac``, with pre-serialized values, paths, header and
  encryption context: per-item P-384 key generation and signature (or verification), the
  keyring's wraps, HKDF, commitment, AES-CTR field keys, AES-GCM per field, SHA-384 of the
  canonical record and the HMAC-SHA384 tag. The decrypt floor runs on a real stored item and is
  checked to recover its plaintexts, so it does all the work;
* **legacy**: our legacy-format ``ItemEncryptor`` with the Wrapped provider, for scale.

Items: the representative item (``_common.representative_item``) and a ~300 KiB item (the
same plus a 300 KiB binary attribute). Every attribute except the keys is ENCRYPT_AND_SIGN.

Run: ``python benchmarks/bench_dbesdk.py`` (``--quick`` for a short run; ``--help``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import struct
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import _common
import pynamodb_encryption as pe
from _common import (
    MAC_KEY,
    PARTITION_KEY,
    SORT_KEY,
    TABLE_NAME,
    WRAPPING_KEY,
    Case,
    fmt_ratio,
    fmt_us,
    measure,
    render_table,
    representative_item,
)
from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbeAlgorithmSuite,
    DbEsdkItemEncryptor,
    HierarchicalKeyring,
    RawAesKeyring,
    StaticKeyStore,
)
from pynamodb_encryption.structured._encryptor import canonical_path
from pynamodb_encryption.structured._header import parse_header, serialize_context
from pynamodb_encryption.structured._serialize import serialize

HMAC_SUITE = DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384
ECDSA_SUITE = DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384
BRANCH_KEY = bytes(range(50, 82))
BRANCH_VERSION = str(uuid.UUID(int=7))
CURVE = ec.SECP384R1()
ECDSA = ec.ECDSA(hashes.SHA384())
NO_SALT = bytes(64)
KDF_LABEL = b"\x00\x00\x00\x01aws-kms-hierarchy\x00"
KDF_LENGTH = b"\x00\x00\x01\x00"
HIERARCHY_AAD = b"aws-kms-hierarchy" + b"bench-branch" + uuid.UUID(BRANCH_VERSION).bytes
sha512, sha384 = hashlib.sha512, hashlib.sha384


def large_item() -> dict[str, Any]:
    item = representative_item()
    item["document"] = {"B": bytes((i * 31 + 7) % 256 for i in range(300 * 1024))}
    return item


def _actions(item: dict[str, Any]) -> dict[str, CryptoAction]:
    actions = {name: CryptoAction.ENCRYPT_AND_SIGN for name in item}
    actions[PARTITION_KEY] = actions[SORT_KEY] = CryptoAction.SIGN_ONLY
    return actions


def _keyring(kind: str) -> Any:
    if kind == "raw AES":
        return RawAesKeyring(key_namespace="bench", key_name="key", wrapping_key=WRAPPING_KEY)
    store = StaticKeyStore(
        branch_key_id="bench-branch",
        branch_key_version=BRANCH_VERSION,
        branch_key=BRANCH_KEY,
        beacon_key=bytes(32),
    )
    return HierarchicalKeyring(key_store=store, branch_key_id="bench-branch")


def _encryptor(item: dict[str, Any], suite: DbeAlgorithmSuite, kind: str) -> DbEsdkItemEncryptor:
    return DbEsdkItemEncryptor(
        table_name=TABLE_NAME,
        partition_key_name=PARTITION_KEY,
        sort_key_name=SORT_KEY,
        attribute_actions=_actions(item),
        keyring=_keyring(kind),
        algorithm_suite=suite,
    )


def _legacy(item: dict[str, Any]) -> pe.ItemEncryptor:
    return pe.ItemEncryptor(
        table_name=TABLE_NAME,
        partition_key_name=PARTITION_KEY,
        sort_key_name=SORT_KEY,
        attribute_actions=pe.AttributeActions(pe.CryptoAction.ENCRYPT_AND_SIGN),
        materials_provider=pe.WrappedMaterialsProvider(
            wrapping_key=pe.SymmetricKey(WRAPPING_KEY, "AES"),
            signing_key=pe.SymmetricKey(MAC_KEY, "HmacSHA256"),
        ),
    )


# ---------------------------------------------------------------------------------------------
# The raw floor


def _expand(prk: bytes, info: bytes) -> bytes:
    return hmac.digest(prk, info + b"\x01", sha512)[:32]


@dataclass
class Floor:
    """The pre-serialized parts of one item, and the crypto-only encrypt and decrypt."""

    ecdsa: bool
    hierarchical: bool
    context: bytes  # serialized encryption context (the wraps' AAD and the record's)
    context_part: bytes  # u64 length || context
    header: bytes  # a header of the right size (its bytes do not change the work)
    # (path, "path || u64 length || ENCRYPTED || type id", serialized value)
    encrypted: list[tuple[bytes, bytes, bytes]]
    signed: list[bytes]  # PLAINTEXT parts of the canonical record, prebuilt

    def encrypt(self) -> list[bytes]:
        if self.ecdsa:
            key = ec.generate_private_key(CURVE)
            key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        data_key, intermediate, message_id = os.urandom(32), os.urandom(32), os.urandom(32)
        prk = hmac.digest(NO_SALT, intermediate, sha512)
        kek = _expand(prk, b"AWS_MPL_INTERMEDIATE_KEYWRAP_ENC")
        mac_key = _expand(prk, b"AWS_MPL_INTERMEDIATE_KEYWRAP_MAC")
        AESGCM(kek).encrypt(bytes(12), data_key, self.context)
        if self.hierarchical:
            salt = os.urandom(16)
            wrapping = hmac.digest(BRANCH_KEY, KDF_LABEL + salt + KDF_LENGTH, "sha256")
            AESGCM(wrapping).encrypt(os.urandom(12), intermediate, HIERARCHY_AAD + self.context)
        else:
            AESGCM(WRAPPING_KEY).encrypt(os.urandom(12), intermediate, self.context)
        prk = hmac.digest(NO_SALT, data_key, sha512)
        commit_key = _expand(prk, b"AWS_DBE_COMMIT_KEY" + message_id)
        root = _expand(prk, b"AWS_DBE_DERIVE_KEY" + message_id)
        hmac.digest(commit_key, self.header, sha512)
        count = len(self.encrypted)
        stream = (
            Cipher(algorithms.AES(root), modes.CTR(b"AwsDbeField,\x00\x00\x00\x00"))
            .encryptor()
            .update(bytes(48 * count))
        )
        record = [self.header, self.context_part, *self.signed]
        out = []
        for i, (path, prefix, value) in enumerate(self.encrypted):
            at = 48 * i
            ct = AESGCM(stream[at : at + 32]).encrypt(stream[at + 32 : at + 44], value, path)
            out.append(ct)
            record.append(prefix)
            record.append(ct)
        digest = sha384(b"".join(record)).digest()
        hmac.digest(mac_key, digest, sha384)
        if self.ecdsa:
            key.sign(digest, ECDSA)
        return out


@dataclass
class DecryptFloor:
    """Crypto-only decryption of one real stored item (parsed outside the timing)."""

    ecdsa: bool
    hierarchical: bool
    context: bytes
    header: bytes
    commitment: bytes
    message_id: bytes
    edk: bytes
    iv: bytes
    context_part: bytes
    encrypted: list[tuple[bytes, bytes, bytes]]  # (path, record prefix, ct||tag)
    signed: list[bytes]
    tag: bytes
    signature: bytes
    public_key: bytes

    def decrypt(self) -> list[bytes]:
        edk = self.edk
        if self.hierarchical:
            salt, iv = edk[48:64], edk[64:76]
            wrapping = hmac.digest(BRANCH_KEY, KDF_LABEL + salt + KDF_LENGTH, "sha256")
            intermediate = AESGCM(wrapping).decrypt(iv, edk[92:], HIERARCHY_AAD + self.context)
        else:
            intermediate = AESGCM(WRAPPING_KEY).decrypt(self.iv, edk[48:], self.context)
        prk = hmac.digest(NO_SALT, intermediate, sha512)
        kek = _expand(prk, b"AWS_MPL_INTERMEDIATE_KEYWRAP_ENC")
        mac_key = _expand(prk, b"AWS_MPL_INTERMEDIATE_KEYWRAP_MAC")
        data_key = AESGCM(kek).decrypt(bytes(12), edk[:48], self.context)
        prk = hmac.digest(NO_SALT, data_key, sha512)
        commit_key = _expand(prk, b"AWS_DBE_COMMIT_KEY" + self.message_id)
        root = _expand(prk, b"AWS_DBE_DERIVE_KEY" + self.message_id)
        if not hmac.compare_digest(
            hmac.digest(commit_key, self.header[:-32], sha512)[:32], self.commitment
        ):
            raise AssertionError("commitment")
        record = [self.header, self.context_part, *self.signed]
        for _, prefix, ct in self.encrypted:
            record.append(prefix)
            record.append(ct)
        digest = sha384(b"".join(record)).digest()
        if not hmac.compare_digest(hmac.digest(mac_key, digest, sha384), self.tag):
            raise AssertionError("tag")
        if self.ecdsa:
            public = ec.EllipticCurvePublicKey.from_encoded_point(CURVE, self.public_key)
            public.verify(self.signature, digest, ECDSA)
        count = len(self.encrypted)
        stream = (
            Cipher(algorithms.AES(root), modes.CTR(b"AwsDbeField,\x00\x00\x00\x00"))
            .encryptor()
            .update(bytes(48 * count))
        )
        out = []
        for i, (path, _, ct) in enumerate(self.encrypted):
            at = 48 * i
            out.append(AESGCM(stream[at : at + 32]).decrypt(stream[at + 32 : at + 44], ct, path))
        return out


def _floors(
    encryptor: DbEsdkItemEncryptor, item: dict[str, Any], ecdsa: bool, hierarchical: bool
) -> tuple[Floor, DecryptFloor]:
    stored = encryptor.encrypt(item)
    header = parse_header(stored["aws_dbe_head"]["B"])
    table = TABLE_NAME.encode()
    names = sorted(item, key=lambda n: canonical_path(table, n))
    context = {
        "aws-crypto-table-name": TABLE_NAME,
        "aws-crypto-partition-name": PARTITION_KEY,
        "aws-crypto-sort-name": SORT_KEY,
    }
    for key in (PARTITION_KEY, SORT_KEY):
        type_id, body = serialize(item[key])
        context["aws-crypto-attr." + key] = base64.b64encode(type_id + body).decode()
    context.update(header.stored_encryption_context)
    ec_bytes = serialize_context(context)
    context_part = struct.pack(">Q", len(ec_bytes)) + ec_bytes
    encrypted, signed, plain = [], [], []
    # Canonical order puts the two-letter keys first, so the floor hashes them first too.
    assert names[:2] == sorted((PARTITION_KEY, SORT_KEY), key=lambda n: canonical_path(table, n))
    for name in names:
        path = canonical_path(table, name)
        if name in (PARTITION_KEY, SORT_KEY):
            type_id, body = serialize(item[name])
            part = path + struct.pack(">Q", len(body)) + b"PLAINTEXT" + type_id + body
            signed.append(part)
        else:
            blob = stored[name]["B"]
            prefix = path + struct.pack(">Q", len(blob) - 2) + b"ENCRYPTED" + blob[:2]
            encrypted.append((path, prefix, blob[2:]))
            plain.append(serialize(item[name])[1])
    edk = header.encrypted_data_keys[0]
    footer = stored["aws_dbe_foot"]["B"]
    decrypt_floor = DecryptFloor(
        ecdsa=ecdsa,
        hierarchical=hierarchical,
        context=ec_bytes,
        context_part=context_part,
        header=stored["aws_dbe_head"]["B"],
        commitment=header.commitment,
        message_id=header.message_id,
        edk=edk.ciphertext,
        iv=edk.provider_info[-12:],
        encrypted=encrypted,
        signed=signed,
        tag=footer[:48],
        signature=footer[48:],
        public_key=base64.b64decode(
            header.stored_encryption_context.get("aws-crypto-public-key", "")
        ),
    )
    # The decrypt floor really decrypts this item: same plaintexts as the serialized values.
    assert decrypt_floor.decrypt() == plain
    encrypt_floor = Floor(
        ecdsa=ecdsa,
        hierarchical=hierarchical,
        context=ec_bytes,
        context_part=context_part,
        header=stored["aws_dbe_head"]["B"][:-32],
        encrypted=[(p, t, v) for (p, t, _), v in zip(encrypted, plain, strict=True)],
        signed=signed,
    )
    return encrypt_floor, decrypt_floor


# ---------------------------------------------------------------------------------------------
# Run


@dataclass
class Row:
    title: str
    ours: Case
    floor: Case
    legacy: Case | None


def run(args: argparse.Namespace) -> list[Row]:
    rows = []
    items = [("representative item", representative_item())]
    if not args.no_large:
        items.append(("300 KiB item", large_item()))
    for item_name, item in items:
        legacy = _legacy(item)
        legacy_stored = legacy.encrypt(item)
        legacy_cases = {
            "encrypt": Case("legacy", lambda legacy=legacy, item=item: legacy.encrypt(item)),
            "decrypt": Case("legacy", lambda legacy=legacy, s=legacy_stored: legacy.decrypt(s)),
        }
        for suite_name, suite in (("ECDSA P-384", ECDSA_SUITE), ("HMAC only", HMAC_SUITE)):
            for kind in ("raw AES", "hierarchical"):
                encryptor = _encryptor(item, suite, kind)
                stored = encryptor.encrypt(item)
                assert encryptor.decrypt(stored) == encryptor.decrypt(encryptor.encrypt(item))
                enc_floor, dec_floor = _floors(
                    encryptor, item, suite.signs_with_ecdsa, kind == "hierarchical"
                )
                title = f"{item_name}, {suite_name}, {kind}"
                rows.append(
                    Row(
                        f"{title}: encrypt",
                        Case("ours", lambda e=encryptor, i=item: e.encrypt(i)),
                        Case("floor", enc_floor.encrypt),
                        legacy_cases["encrypt"] if kind == "raw AES" else None,
                    )
                )
                rows.append(
                    Row(
                        f"{title}: decrypt",
                        Case("ours", lambda e=encryptor, s=stored: e.decrypt(s)),
                        Case("floor", dec_floor.decrypt),
                        legacy_cases["decrypt"] if kind == "raw AES" else None,
                    )
                )
    for row in rows:
        number = args.number if "300 KiB" not in row.title else max(2, args.number // 10)
        cases = [row.ours, row.floor]
        if row.legacy is not None and not row.legacy.samples_ns:
            cases.append(row.legacy)
        measure(cases, number=number, rounds=args.rounds, warmup=args.warmup, clock=args.clock)
    return rows


def report(rows: list[Row]) -> str:
    headers = ["scenario", "ours (us)", "raw floor (us)", "ours/floor", "legacy format (us)"]
    table = []
    for row in rows:
        legacy = fmt_us(row.legacy.median_us) if row.legacy is not None else ""
        table.append(
            [
                row.title,
                fmt_us(row.ours.median_us),
                fmt_us(row.floor.median_us),
                fmt_ratio(row.ours.median_us / row.floor.median_us),
                legacy,
            ]
        )
    return render_table(headers, table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100, help="calls per timed round")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per contender")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--quick", action="store_true", help="a short run (number=20, rounds=5)")
    parser.add_argument("--no-large", action="store_true", help="skip the 300 KiB item")
    parser.add_argument("--clock", choices=sorted(_common.CLOCKS), default="wall")
    args = parser.parse_args(argv)
    if args.quick:
        args.number, args.rounds, args.warmup = 20, 5, 5
    print(_common.environment_line())
    print(
        f"{args.rounds} rounds x {args.number} calls (300 KiB item: a tenth); medians of the "
        f"per-call time per round; {args.clock} clock; legacy = our legacy format (Wrapped "
        "provider, AES-CBC + HMAC-SHA256) on the same item"
    )
    print()
    print(report(run(args)))
    print()
    print("Target: ours/floor <= 1.3x.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
