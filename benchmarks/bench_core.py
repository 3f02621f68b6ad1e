"""Core engine benchmark: pynamodb-encryption vs dynamodb-encryption-sdk vs the raw crypto floor.

One run times, on the same item and the same keys:

* **ours**: ``pynamodb_encryption.ItemEncryptor.encrypt/decrypt`` (DynamoDB JSON);
* **reference**: ``dynamodb_encryption_sdk.encrypted.item.encrypt/decrypt_dynamodb_item``
  with an equivalent ``CryptoConfig`` built once (the most favourable way to call it);
* **raw floor**: only the cryptographic operations the format requires, straight on
  ``cryptography``/``hashlib``/``hmac`` with pre-serialized plaintexts and cached constant
  digests. Two variants: *textbook* (one ``Cipher`` object per attribute, the obvious code) and
  *tuned* (one CBC context per item, each attribute's random IV injected into the chain, the
  trick the engine itself uses). The ratio ``ours/floor`` is against the lower of the two. Each
  floor's output is checked to be a valid item (our decryptor accepts it), so the floor really
  does all the work.

Scenarios: the Wrapped provider (AESWrap + HMAC-SHA256, the main target), the Static provider
(AES + HMAC-SHA256), Static with SHA256withRSA signing (RSA-2048, expected crypto-bound) and
decrypting items that the reference encrypted.

Run: ``python benchmarks/bench_core.py`` (``--quick`` for a short run; ``--help``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
from dynamodb_encryption_sdk.encrypted import CryptoConfig
from dynamodb_encryption_sdk.encrypted.item import decrypt_dynamodb_item, encrypt_dynamodb_item
from dynamodb_encryption_sdk.identifiers import CryptoAction as RefAction
from dynamodb_encryption_sdk.identifiers import EncryptionKeyType, KeyEncodingType
from dynamodb_encryption_sdk.material_providers.static import (
    StaticCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.material_providers.wrapped import (
    WrappedCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.materials.raw import RawDecryptionMaterials, RawEncryptionMaterials
from dynamodb_encryption_sdk.structures import AttributeActions as RefActions
from dynamodb_encryption_sdk.structures import EncryptionContext as RefContext

import _common
import pynamodb_encryption as pe
from _common import (
    CONTENT_KEY,
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
from pynamodb_encryption.core._codec import serialize
from pynamodb_encryption.core._md import decode_material_description, encode_material_description

SIG = pe.SIGNATURE_ATTRIBUTE
MD = pe.MATERIAL_DESCRIPTION_ATTRIBUTE

# ---------------------------------------------------------------------------------------------
# Contenders


@dataclass
class Scenario:
    title: str
    ours: pe.ItemEncryptor
    ref_config: Any
    # The floor needs the keys as cryptography objects.
    signer: Callable[[bytes], bytes]
    verifier: Callable[[bytes, bytes], bool]
    wrapped: bool
    static_aes: algorithms.AES | None = None


def _ref_config(provider: Any) -> Any:
    actions = RefActions(default_action=RefAction.ENCRYPT_AND_SIGN)
    actions.set_index_keys(PARTITION_KEY, SORT_KEY)
    context = RefContext(
        table_name=TABLE_NAME, partition_key_name=PARTITION_KEY, sort_key_name=SORT_KEY
    )
    return CryptoConfig(
        materials_provider=provider, encryption_context=context, attribute_actions=actions
    )


_SYM, _RAW, _DER = EncryptionKeyType.SYMMETRIC, KeyEncodingType.RAW, KeyEncodingType.DER


def _ref_key(material: bytes, algorithm: str, kind: Any = _SYM, encoding: Any = _RAW) -> Any:
    return JceNameLocalDelegatedKey(material, algorithm, kind, encoding)


def _ours(provider: pe.MaterialsProvider) -> pe.ItemEncryptor:
    return pe.ItemEncryptor(
        table_name=TABLE_NAME,
        partition_key_name=PARTITION_KEY,
        sort_key_name=SORT_KEY,
        attribute_actions=pe.AttributeActions(pe.CryptoAction.ENCRYPT_AND_SIGN),
        materials_provider=provider,
    )


def _hmac_pair() -> tuple[Callable[[bytes], bytes], Callable[[bytes, bytes], bool]]:
    def sign(data: bytes) -> bytes:
        return hmac.digest(MAC_KEY, data, "sha256")

    def verify(signature: bytes, data: bytes) -> bool:
        return hmac.compare_digest(hmac.digest(MAC_KEY, data, "sha256"), signature)

    return sign, verify


def wrapped_scenario() -> Scenario:
    ref_provider = WrappedCryptographicMaterialsProvider(
        signing_key=_ref_key(MAC_KEY, "HmacSHA256"),
        wrapping_key=_ref_key(WRAPPING_KEY, "AES"),
        unwrapping_key=_ref_key(WRAPPING_KEY, "AES"),
    )
    ours = pe.WrappedMaterialsProvider(
        wrapping_key=pe.SymmetricKey(WRAPPING_KEY, "AES"),
        signing_key=pe.SymmetricKey(MAC_KEY, "HmacSHA256"),
    )
    sign, verify = _hmac_pair()
    return Scenario(
        "Wrapped (AESWrap + HMAC-SHA256)",
        _ours(ours),
        _ref_config(ref_provider),
        sign,
        verify,
        wrapped=True,
    )


def static_scenario() -> Scenario:
    aes = _ref_key(CONTENT_KEY, "AES")
    mac = _ref_key(MAC_KEY, "HmacSHA256")
    ref_provider = StaticCryptographicMaterialsProvider(
        encryption_materials=RawEncryptionMaterials(signing_key=mac, encryption_key=aes),
        decryption_materials=RawDecryptionMaterials(verification_key=mac, decryption_key=aes),
    )
    ours = pe.StaticMaterialsProvider(
        encryption_key=pe.SymmetricKey(CONTENT_KEY, "AES"),
        signing_key=pe.SymmetricKey(MAC_KEY, "HmacSHA256"),
    )
    sign, verify = _hmac_pair()
    return Scenario(
        "Static (AES-256 + HMAC-SHA256)",
        _ours(ours),
        _ref_config(ref_provider),
        sign,
        verify,
        wrapped=False,
        static_aes=algorithms.AES(CONTENT_KEY),
    )


def rsa_scenario() -> Scenario:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key()
    der_private = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    der_public = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    aes = _ref_key(CONTENT_KEY, "AES")
    ref_sign = _ref_key(der_private, "SHA256withRSA", EncryptionKeyType.PRIVATE, _DER)
    ref_verify = _ref_key(der_public, "SHA256withRSA", EncryptionKeyType.PUBLIC, _DER)
    ref_provider = StaticCryptographicMaterialsProvider(
        encryption_materials=RawEncryptionMaterials(signing_key=ref_sign, encryption_key=aes),
        decryption_materials=RawDecryptionMaterials(
            verification_key=ref_verify, decryption_key=aes
        ),
    )
    ours = pe.StaticMaterialsProvider(
        encryption_key=pe.SymmetricKey(CONTENT_KEY, "AES"),
        signing_key=pe.RsaPrivateKey.from_der(der_private, "SHA256withRSA"),
    )

    def sign(data: bytes) -> bytes:
        return private.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def verify(signature: bytes, data: bytes) -> bool:
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        return True

    return Scenario(
        "Static (AES-256 + SHA256withRSA 2048)",
        _ours(ours),
        _ref_config(ref_provider),
        sign,
        verify,
        wrapped=False,
        static_aes=algorithms.AES(CONTENT_KEY),
    )


def ref_encrypt(config: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda item: encrypt_dynamodb_item(item, config)


def ref_decrypt(config: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    # The reference pops the reserved attributes from its argument: give it a copy.
    return lambda item: decrypt_dynamodb_item(dict(item), config)


# ---------------------------------------------------------------------------------------------
# The raw floor: the format's cryptography and nothing else


_TAG_B = b"\x00b"
_pack_u32 = struct.Struct(">I").pack
_sha256 = hashlib.sha256
_ENCRYPTED = _sha256(b"ENCRYPTED").digest()
_PLAINTEXT = _sha256(b"PLAINTEXT").digest()
_ZERO_IV = bytes(16)


class Floor:
    """Encrypt and decrypt one item's worth of crypto with minimal Python around it.

    Per item and per the format: a fresh content key + AES key wrap (Wrapped) / unwrap, one
    AES-CBC encryption with a fresh random IV per encrypted attribute, one SHA-256 per signed
    attribute value (the name and marker digests are constants and are cached, as the engine
    caches them), one HMAC-SHA256 (or RSA signature) over the 32 + 96 x n byte string-to-sign.
    Serialization, base64 and the material description are *not* counted.
    """

    def __init__(self, scenario: Scenario, item: dict[str, Any]) -> None:
        self.scenario = scenario
        actions = scenario.ours.attribute_actions
        names = sorted(item)
        self.encrypted_names = [
            n for n in names if actions.action(n) is pe.CryptoAction.ENCRYPT_AND_SIGN
        ]
        self.plain_names = [n for n in names if n not in self.encrypted_names]
        # PKCS#7-padded serialized plaintexts, computed once (serialization is not crypto).
        self.padded = []
        for name in self.encrypted_names:
            data = serialize(item[name])
            pad = 16 - len(data) % 16
            self.padded.append(data + bytes((pad,)) * pad)
        self.plain_serialized = [serialize(item[n]) for n in self.plain_names]
        self.table_digest = _sha256(f"TABLE>{TABLE_NAME}<TABLE".encode()).digest()
        self.name_digests = {n: _sha256(n.encode()).digest() for n in names}
        self.order = names  # the string-to-sign order (every attribute is signed here)

    # -- encrypt ----------------------------------------------------------------------------

    def _content_aes(self) -> tuple[algorithms.AES, bytes | None]:
        if self.scenario.wrapped:
            content_key = os.urandom(32)
            return algorithms.AES(content_key), aes_key_wrap(WRAPPING_KEY, content_key)
        assert self.scenario.static_aes is not None
        return self.scenario.static_aes, None

    def _sign(self, blobs: list[bytes]) -> bytes:
        value_digests = {}
        for name, blob in zip(self.encrypted_names, blobs, strict=True):
            value_digests[name] = (
                _ENCRYPTED + _sha256(_TAG_B + _pack_u32(len(blob)) + blob).digest()
            )
        for name, data in zip(self.plain_names, self.plain_serialized, strict=True):
            value_digests[name] = _PLAINTEXT + _sha256(data).digest()
        names = self.name_digests
        sts = self.table_digest + b"".join([names[n] + value_digests[n] for n in self.order])
        return self.scenario.signer(sts)

    def encrypt_textbook(self) -> tuple[list[bytes], bytes, bytes | None]:
        aes, wrapped = self._content_aes()
        ivs = os.urandom(16 * len(self.padded))
        blobs = []
        for i, padded in enumerate(self.padded):
            iv = ivs[16 * i : 16 * i + 16]
            enc = Cipher(aes, modes.CBC(iv)).encryptor()
            blobs.append(iv + enc.update(padded) + enc.finalize())
        return blobs, self._sign(blobs), wrapped

    def encrypt_tuned(self) -> tuple[list[bytes], bytes, bytes | None]:
        aes, wrapped = self._content_aes()
        ivs = os.urandom(16 * len(self.padded))
        enc = Cipher(aes, modes.CBC(_ZERO_IV)).encryptor()
        last = 0
        blobs = []
        from_bytes = int.from_bytes
        for i, padded in enumerate(self.padded):
            iv = ivs[16 * i : 16 * i + 16]
            first = from_bytes(padded[:16], "big") ^ from_bytes(iv, "big") ^ last
            out = enc.update(first.to_bytes(16, "big") + padded[16:])
            last = from_bytes(out[-16:], "big")
            blobs.append(iv + out)
        return blobs, self._sign(blobs), wrapped

    # -- decrypt ----------------------------------------------------------------------------

    def prepare_decrypt(self, stored: dict[str, Any]) -> None:
        """Extract what the floor reads: the blobs, the signature, the wrapped key bytes."""
        self.stored_blobs = [stored[n]["B"] for n in self.encrypted_names]
        self.stored_signature = stored[SIG]["B"]
        md = decode_material_description(stored[MD]["B"])
        self.stored_wrapped = (
            base64.b64decode(md["amzn-ddb-env-key"]) if self.scenario.wrapped else None
        )

    def _check(self) -> algorithms.AES:
        if self.scenario.wrapped:
            assert self.stored_wrapped is not None
            aes = algorithms.AES(aes_key_unwrap(WRAPPING_KEY, self.stored_wrapped))
        else:
            assert self.scenario.static_aes is not None
            aes = self.scenario.static_aes
        value_digests = {}
        for name, blob in zip(self.encrypted_names, self.stored_blobs, strict=True):
            value_digests[name] = (
                _ENCRYPTED + _sha256(_TAG_B + _pack_u32(len(blob)) + blob).digest()
            )
        for name, data in zip(self.plain_names, self.plain_serialized, strict=True):
            value_digests[name] = _PLAINTEXT + _sha256(data).digest()
        names = self.name_digests
        sts = self.table_digest + b"".join([names[n] + value_digests[n] for n in self.order])
        if not self.scenario.verifier(self.stored_signature, sts):
            raise ValueError("bad signature")
        return aes

    def decrypt_textbook(self) -> list[bytes]:
        aes = self._check()
        out = []
        for blob in self.stored_blobs:
            dec = Cipher(aes, modes.CBC(blob[:16])).decryptor()
            padded = dec.update(blob[16:]) + dec.finalize()
            out.append(padded[: -padded[-1]])
        return out

    def decrypt_tuned(self) -> list[bytes]:
        aes = self._check()
        dec = Cipher(aes, modes.CBC(_ZERO_IV)).decryptor()
        out = []
        for blob in self.stored_blobs:
            # Feeding the IV as a ciphertext block sets the chain to it; its output is dropped.
            padded = dec.update(blob)[16:]
            out.append(padded[: -padded[-1]])
        return out

    def as_item(
        self, result: tuple[list[bytes], bytes, bytes | None], stored: dict[str, Any]
    ) -> dict[str, Any]:
        """Assemble a floor encryption into a full item (for the validity cross-check)."""
        blobs, signature, wrapped = result
        item = dict(stored)
        for name, blob in zip(self.encrypted_names, blobs, strict=True):
            item[name] = {"B": blob}
        item[SIG] = {"B": signature}
        if wrapped is not None:
            md = decode_material_description(stored[MD]["B"])
            md["amzn-ddb-env-key"] = base64.b64encode(wrapped).decode()
            item[MD] = {"B": encode_material_description(md)}
        return item


# ---------------------------------------------------------------------------------------------
# Checks (before timing: every contender must produce correct output)


def _canonical(value: Any) -> Any:
    """A DynamoDB-JSON value as DynamoDB compares it: numbers as Decimal, sets unordered."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return ("N", Decimal(inner))
    if tag == "NS":
        return (tag, frozenset(Decimal(x) for x in inner))
    if tag in ("SS", "BS"):
        return (tag, frozenset(bytes(x) if tag == "BS" else x for x in inner))
    if tag == "L":
        return ("L", [_canonical(v) for v in inner])
    if tag == "M":
        return ("M", {k: _canonical(v) for k, v in inner.items()})
    if tag == "B":
        return ("B", bytes(inner))
    return (tag, inner)


def _same_item(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: _canonical(v) for k, v in a.items()} == {k: _canonical(v) for k, v in b.items()}


def cross_check(scenario: Scenario, item: dict[str, Any], floor: Floor) -> dict[str, Any]:
    """Each side decrypts the other's items, and the floor's output is a valid item.

    Returns one item the reference encrypted (for the "decrypt reference items" rows).
    """
    ours_stored = scenario.ours.encrypt(item)
    ref_stored = ref_encrypt(scenario.ref_config)(item)
    checks = {
        "ours -> ours": scenario.ours.decrypt(ours_stored),
        "ours -> reference": ref_decrypt(scenario.ref_config)(ours_stored),
        "reference -> ours": scenario.ours.decrypt(ref_stored),
    }
    floor.prepare_decrypt(ours_stored)
    for variant in (floor.encrypt_textbook, floor.encrypt_tuned):
        checks[f"floor {variant.__name__} -> ours"] = scenario.ours.decrypt(
            floor.as_item(variant(), ours_stored)
        )
    expected_plaintexts = [p[: -p[-1]] for p in floor.padded]
    for decrypt_variant in (floor.decrypt_textbook, floor.decrypt_tuned):
        if decrypt_variant() != expected_plaintexts:
            raise SystemExit(f"{scenario.title}: {decrypt_variant.__name__} gave wrong plaintexts")
    for label, result in checks.items():
        if not _same_item(result, item):
            raise SystemExit(f"{scenario.title}: cross-check {label} failed")
    return ref_stored


# ---------------------------------------------------------------------------------------------
# Main


@dataclass
class Row:
    label: str
    ours: Case
    ref: Case
    floor_textbook: Case
    floor_tuned: Case


def _function_api_kwargs(scenario: Scenario) -> dict[str, Any]:
    """What a caller of the function API passes, built afresh (as a per-call config is)."""
    return {
        "table_name": TABLE_NAME,
        "partition_key_name": PARTITION_KEY,
        "sort_key_name": SORT_KEY,
        "attribute_actions": pe.AttributeActions(pe.CryptoAction.ENCRYPT_AND_SIGN),
        "materials_provider": scenario.ours._provider,
    }


def _function_api_rows(
    scenario: Scenario,
    item: dict[str, Any],
    stored: dict[str, Any],
    floor: Floor,
    floor_stored: Floor,
) -> list[Row]:
    """``encrypt_item`` / ``decrypt_item`` with a fresh configuration on every call."""

    def encrypt() -> dict[str, Any]:
        return pe.encrypt_item(item, **_function_api_kwargs(scenario))

    def decrypt() -> dict[str, Any]:
        return pe.decrypt_item(stored, **_function_api_kwargs(scenario))

    if not _same_item(decrypt(), item) or not _same_item(scenario.ours.decrypt(encrypt()), item):
        raise SystemExit(f"{scenario.title}: the function API gave a wrong item")
    enc_ref, dec_ref = ref_encrypt(scenario.ref_config), ref_decrypt(scenario.ref_config)
    return [
        Row(
            f"{scenario.title}: encrypt_item (function API)",
            Case("ours", encrypt),
            Case("ref", partial(enc_ref, item)),
            Case("floor textbook", floor.encrypt_textbook),
            Case("floor tuned", floor.encrypt_tuned),
        ),
        Row(
            f"{scenario.title}: decrypt_item (function API)",
            Case("ours", decrypt),
            Case("ref", partial(dec_ref, stored)),
            Case("floor textbook", floor_stored.decrypt_textbook),
            Case("floor tuned", floor_stored.decrypt_tuned),
        ),
    ]


LARGE_BYTES = 300 * 1024


def large_item() -> dict[str, Any]:
    """The representative item plus a 300 KiB binary: about 301 KiB, within DynamoDB's 400 KB."""
    item = representative_item()
    item["blob"] = {"B": bytes((i * 131 + 7) % 256 for i in range(LARGE_BYTES))}
    return item


def _large_rows(scenario: Scenario) -> list[Row]:
    item = large_item()
    floor = Floor(scenario, item)
    cross_check(scenario, item, floor)
    stored = scenario.ours.encrypt(item)
    floor_stored = Floor(scenario, item)
    floor_stored.prepare_decrypt(stored)
    enc_ref, dec_ref = ref_encrypt(scenario.ref_config), ref_decrypt(scenario.ref_config)
    return [
        Row(
            f"{scenario.title}: encrypt ~300 KiB item",
            Case("ours", partial(scenario.ours.encrypt, item)),
            Case("ref", partial(enc_ref, item)),
            Case("floor textbook", floor.encrypt_textbook),
            Case("floor tuned", floor.encrypt_tuned),
        ),
        Row(
            f"{scenario.title}: decrypt ~300 KiB item",
            Case("ours", partial(scenario.ours.decrypt, stored)),
            Case("ref", partial(dec_ref, stored)),
            Case("floor textbook", floor_stored.decrypt_textbook),
            Case("floor tuned", floor_stored.decrypt_tuned),
        ),
    ]


def run(args: argparse.Namespace) -> list[Row]:
    item = representative_item()
    scenarios = [wrapped_scenario(), static_scenario()]
    if not args.no_rsa:
        scenarios.append(rsa_scenario())
    rows: list[Row] = []
    for scenario in scenarios:
        floor = Floor(scenario, item)
        ref_stored = cross_check(scenario, item, floor)
        ours_stored = scenario.ours.encrypt(item)
        enc_ref, dec_ref = ref_encrypt(scenario.ref_config), ref_decrypt(scenario.ref_config)
        ours = scenario.ours
        rows.append(
            Row(
                f"{scenario.title}: encrypt",
                Case("ours", partial(ours.encrypt, item)),
                Case("ref", partial(enc_ref, item)),
                Case("floor textbook", floor.encrypt_textbook),
                Case("floor tuned", floor.encrypt_tuned),
            )
        )
        # A floor instance per decrypt row: prepare_decrypt pins the item it reads.
        floor_ours = Floor(scenario, item)
        floor_ours.prepare_decrypt(ours_stored)
        rows.append(
            Row(
                f"{scenario.title}: decrypt",
                Case("ours", partial(ours.decrypt, ours_stored)),
                Case("ref", partial(dec_ref, ours_stored)),
                Case("floor textbook", floor_ours.decrypt_textbook),
                Case("floor tuned", floor_ours.decrypt_tuned),
            )
        )
        if scenario.wrapped:
            rows.extend(_function_api_rows(scenario, item, ours_stored, floor, floor_ours))
            rows.extend(_large_rows(scenario))
            floor_ref = Floor(scenario, item)
            floor_ref.prepare_decrypt(ref_stored)
            rows.append(
                Row(
                    f"{scenario.title}: decrypt items written by the reference",
                    Case("ours", partial(ours.decrypt, ref_stored)),
                    Case("ref", partial(dec_ref, ref_stored)),
                    Case("floor textbook", floor_ref.decrypt_textbook),
                    Case("floor tuned", floor_ref.decrypt_tuned),
                )
            )
    for row in rows:
        slow = "RSA" in row.label or "KiB" in row.label
        number = args.number if not slow else max(1, args.number // 4)
        measure(
            [row.ours, row.ref, row.floor_textbook, row.floor_tuned],
            number=number,
            rounds=args.rounds,
            warmup=args.warmup,
            clock=args.clock,
        )
    return rows


def report(rows: list[Row]) -> str:
    headers = [
        "operation",
        "ours median (p95) µs",
        "reference median (p95) µs",
        "raw floor µs (textbook / tuned)",
        "ours/reference",
        "speed-up vs reference",
        "ours/raw floor",
    ]
    table = []
    for row in rows:
        floor = min(row.floor_textbook.median_us, row.floor_tuned.median_us)
        table.append(
            [
                row.label,
                f"{fmt_us(row.ours.median_us)} ({fmt_us(row.ours.p95_us)})",
                f"{fmt_us(row.ref.median_us)} ({fmt_us(row.ref.p95_us)})",
                f"{fmt_us(row.floor_textbook.median_us)} / {fmt_us(row.floor_tuned.median_us)}",
                fmt_ratio(row.ours.median_us / row.ref.median_us),
                fmt_ratio(row.ref.median_us / row.ours.median_us),
                fmt_ratio(row.ours.median_us / floor),
            ]
        )
    return render_table(headers, table)


def issue_table(rows: list[Row]) -> str:
    """The speed targets of issue 14, as ratios of this run (Wrapped provider rows)."""
    by_label = {row.label.split(": ", 1)[1]: row for row in rows if row.label.startswith("Wrapped")}

    def speedup(name: str) -> str:
        row = by_label[name]
        return fmt_ratio(row.ref.median_us / row.ours.median_us)

    def floor(name: str, variant: str = "tuned") -> str:
        row = by_label[name]
        case = row.floor_tuned if variant == "tuned" else row.floor_textbook
        return fmt_ratio(row.ours.median_us / case.median_us)

    table = [
        [
            "encrypt_item/decrypt_item (fresh config each call): speed-up vs reference",
            f"{speedup('encrypt_item (function API)')} / {speedup('decrypt_item (function API)')}",
            ">= 5x",
        ],
        [
            "ItemEncryptor, same run: speed-up vs reference",
            f"{speedup('encrypt')} / {speedup('decrypt')}",
            ">= 5x",
        ],
        [
            "representative item, ItemEncryptor, vs textbook floor (vs tuned floor)",
            f"{floor('encrypt', 'textbook')} / {floor('decrypt', 'textbook')} "
            f"({floor('encrypt')} / {floor('decrypt')})",
            "<= 1.2x (textbook)",
        ],
        [
            "~300 KiB item vs floor (the lower floor)",
            f"{_vs_floor(by_label['encrypt ~300 KiB item'])} / "
            f"{_vs_floor(by_label['decrypt ~300 KiB item'])}",
            "<= 1.25x",
        ],
    ]
    return render_table(["issue 14 target (encrypt / decrypt)", "this run", "target"], table)


def _vs_floor(row: Row) -> str:
    lower = min(row.floor_textbook.median_us, row.floor_tuned.median_us)
    return fmt_ratio(row.ours.median_us / lower)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200, help="calls per timed round")
    parser.add_argument("--rounds", type=int, default=25, help="timed rounds per contender")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls first")
    parser.add_argument("--quick", action="store_true", help="a short run (number=40, rounds=7)")
    parser.add_argument("--no-rsa", action="store_true", help="skip the RSA scenario")
    parser.add_argument(
        "--clock",
        choices=sorted(_common.CLOCKS),
        default="wall",
        help="wall: perf_counter_ns (default); cpu: process_time_ns, steadier on a busy machine",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.number, args.rounds, args.warmup = 40, 7, 10
    print(_common.environment_line())
    print(
        f"item: {len(representative_item())} attributes (partition S, sort N, 10 others); "
        f"{args.rounds} rounds x {args.number} calls; medians and p95 of per-call time per round; "
        f"{args.clock} clock"
    )
    print()
    rows = run(args)
    print(report(rows))
    print()
    print(issue_table(rows))
    print()
    print(
        "ours/reference < 0.20x (speed-up >= 5x) and ours/raw floor <= 3x are the targets; "
        "raw floor = the lower of the two floor variants."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
