"""A deliberately simple DB-ESDK decoder, written from the format notes for the tests only.

It shares no code with the library (only `cryptography` and the standard library) and does
the straightforward thing at every step: parse the header, open a raw AES keyring EDK,
check the commitment, rebuild the canonical record, check a footer tag and the ECDSA
signature, decrypt and deserialize the fields. It returns the plaintext item or raises
``ValueError``. Used to check that what the library writes is what the format says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from decimal import Context, Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand


def _hkdf(ikm: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA512(), 32, None, info).derive(ikm)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise ValueError("short")
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def int(self, n: int) -> int:
        return int.from_bytes(self.read(n), "big")

    def field(self) -> bytes:
        return self.read(self.int(2))


def _ec_bytes(context: dict[str, str]) -> bytes:
    out = struct.pack(">H", len(context))
    for key in sorted(context, key=lambda k: k.encode()):
        k, v = key.encode(), context[key].encode()
        out += struct.pack(">H", len(k)) + k + struct.pack(">H", len(v)) + v
    return out


# --- attribute values ---------------------------------------------------------------------


def _number(text: str) -> str:
    d = Decimal(text)
    if d == 0:
        return "0"
    return format(d.normalize(Context(prec=100)), "f")


def encode(value: dict[str, Any]) -> tuple[bytes, bytes]:
    ((kind, v),) = value.items()
    if kind == "NULL":
        return b"\x00\x00", b""
    if kind == "S":
        return b"\x00\x01", v.encode()
    if kind == "N":
        return b"\x00\x02", _number(v).encode()
    if kind == "B":
        return b"\xff\xff", bytes(v)
    if kind == "BOOL":
        return b"\x00\x04", b"\x01" if v else b"\x00"
    if kind in ("SS", "NS", "BS"):
        if kind == "SS":
            members = sorted(v, key=lambda s: s.encode("utf-16-be", "surrogatepass"))
            raw = [m.encode() for m in members]
            tid = b"\x01\x01"
        elif kind == "NS":
            raw = sorted(_number(m).encode() for m in v)
            tid = b"\x01\x02"
        else:
            raw = sorted(bytes(m) for m in v)
            tid = b"\x01\xff"
        body = struct.pack(">I", len(raw)) + b"".join(struct.pack(">I", len(m)) + m for m in raw)
        return tid, body
    if kind == "L":
        body = struct.pack(">I", len(v))
        for element in v:
            t, b = encode(element)
            body += t + struct.pack(">I", len(b)) + b
        return b"\x03\x00", body
    if kind == "M":
        body = struct.pack(">I", len(v))
        for key in sorted(v, key=lambda s: s.encode("utf-16-be", "surrogatepass")):
            t, b = encode(v[key])
            k = key.encode()
            body += b"\x00\x01" + struct.pack(">I", len(k)) + k + t + struct.pack(">I", len(b)) + b
        return b"\x02\x00", body
    raise ValueError(kind)


def decode(tid: bytes, body: bytes) -> dict[str, Any]:
    if tid == b"\x00\x00":
        return {"NULL": True}
    if tid == b"\x00\x01":
        return {"S": body.decode()}
    if tid == b"\x00\x02":
        return {"N": body.decode()}
    if tid == b"\xff\xff":
        return {"B": body}
    if tid == b"\x00\x04":
        return {"BOOL": body == b"\x01"}
    cur = _Cursor(body)
    count = cur.int(4)
    if tid in (b"\x01\x01", b"\x01\x02", b"\x01\xff"):
        members = [cur.read(cur.int(4)) for _ in range(count)]
        if tid == b"\x01\x01":
            return {"SS": [m.decode() for m in members]}
        if tid == b"\x01\x02":
            return {"NS": [m.decode() for m in members]}
        return {"BS": members}
    if tid == b"\x03\x00":
        out = []
        for _ in range(count):
            t = cur.read(2)
            out.append(decode(t, cur.read(cur.int(4))))
        return {"L": out}
    if tid == b"\x02\x00":
        m = {}
        for _ in range(count):
            if cur.read(2) != b"\x00\x01":
                raise ValueError("key type")
            key = cur.read(cur.int(4)).decode()
            t = cur.read(2)
            m[key] = decode(t, cur.read(cur.int(4)))
        return {"M": m}
    raise ValueError("type")


# --- the item -----------------------------------------------------------------------------


def decrypt(
    item: dict[str, Any],
    *,
    table: str,
    partition_key: str,
    sort_key: str | None,
    unsigned: set[str],
    namespace: str,
    key_name: str,
    wrapping_key: bytes,
) -> dict[str, Any]:
    head = item["aws_dbe_head"]["B"]
    foot = item["aws_dbe_foot"]["B"]
    cur = _Cursor(head)
    version, flavor = cur.int(1), cur.int(1)
    message_id = cur.read(32)
    legend = cur.field().decode()
    stored_ec = {}
    for _ in range(cur.int(2)):
        k = cur.field().decode()
        stored_ec[k] = cur.field().decode()
    edks = []
    for _ in range(cur.int(1)):
        edks.append((cur.field(), cur.field(), cur.field()))
    commitment = cur.read(32)
    if cur.at != len(head):
        raise ValueError("trailing")

    def path(name: str) -> bytes:
        units = len(name.encode("utf-16-le", "surrogatepass")) // 2
        return (
            table.encode() + struct.pack(">Q", 1) + b"$" + struct.pack(">Q", units) + name.encode()
        )

    names = sorted(
        (n for n in item if not n.startswith("aws_dbe_") and n not in unsigned), key=path
    )
    if len(names) != len(legend):
        raise ValueError("legend")
    actions = dict(zip(names, legend, strict=True))

    values = {}
    for n in names:
        if actions[n] == "e":
            stored = item[n]["B"]
            values[n] = (stored[:2], stored[2:])
        else:
            values[n] = encode(item[n])

    ec_full = {"aws-crypto-table-name": table, "aws-crypto-partition-name": partition_key}
    if sort_key:
        ec_full["aws-crypto-sort-name"] = sort_key
    if version == 1:
        for k in (partition_key, sort_key):
            if k:
                ec_full["aws-crypto-attr." + k] = base64.b64encode(b"".join(values[k])).decode()
    else:
        chars = ""
        for n in sorted((n for n in names if actions[n] == "c"), key=lambda s: s.encode()):
            t, b = values[n]
            if t == b"\x00\x01":
                ec_full["aws-crypto-attr." + n], c = b.decode(), "S"
            elif t == b"\x00\x02":
                ec_full["aws-crypto-attr." + n], c = b.decode(), "N"
            elif t == b"\x00\x00":
                ec_full["aws-crypto-attr." + n], c = "null", "L"
            elif t == b"\x00\x04":
                ec_full["aws-crypto-attr." + n], c = ("true" if b == b"\x01" else "false"), "L"
            else:
                ec_full["aws-crypto-attr." + n], c = base64.b64encode(t + b).decode(), "B"
            chars += c
        ec_full["aws-crypto-legend"] = chars
    ec_full.update(stored_ec)

    # raw AES keyring with intermediate key wrapping
    aad = _ec_bytes(ec_full)
    data_key = mac_key = None
    for provider_id, info, ct in edks:
        if provider_id != namespace.encode() or not info.startswith(key_name.encode()):
            continue
        iv = info[-12:]
        ik = AESGCM(wrapping_key).decrypt(iv, ct[48:], aad)
        prk = hmac.new(bytes(64), ik, hashlib.sha512).digest()
        kek = HKDFExpand(hashes.SHA512(), 32, b"AWS_MPL_INTERMEDIATE_KEYWRAP_ENC").derive(prk)
        mac_key = HKDFExpand(hashes.SHA512(), 32, b"AWS_MPL_INTERMEDIATE_KEYWRAP_MAC").derive(prk)
        data_key = AESGCM(kek).decrypt(bytes(12), ct[:48], aad)
        break
    if data_key is None or mac_key is None:
        raise ValueError("no key")

    commit_key = _hkdf(data_key, b"AWS_DBE_COMMIT_KEY" + message_id)
    expected = hmac.new(commit_key, head[:-32], hashlib.sha512).digest()[:32]
    if not hmac.compare_digest(expected, commitment):
        raise ValueError("commitment")

    record = head + struct.pack(">Q", len(aad)) + aad
    for n in names:
        t, b = values[n]
        mark = b"ENCRYPTED" if actions[n] == "e" else b"PLAINTEXT"
        record += path(n) + struct.pack(">Q", len(b)) + mark + t + b
    digest = hashlib.sha384(record).digest()
    tag = hmac.new(mac_key, digest, hashlib.sha384).digest()
    tags = [foot[i * 48 : (i + 1) * 48] for i in range(len(edks))]
    if not any(hmac.compare_digest(tag, t) for t in tags):
        raise ValueError("tag")
    if flavor == 1:
        signature = foot[48 * len(edks) :]
        if len(signature) != 103:
            raise ValueError("signature length")
        point = base64.b64decode(ec_full["aws-crypto-public-key"])
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), point)
        public.verify(signature, digest, ec.ECDSA(hashes.SHA384()))  # raises InvalidSignature
    elif len(foot) != 48 * len(edks):
        raise ValueError("footer length")

    root = _hkdf(data_key, b"AWS_DBE_DERIVE_KEY" + message_id)
    out = {k: v for k, v in item.items() if k not in ("aws_dbe_head", "aws_dbe_foot")}
    offset = 0
    for n in names:
        if actions[n] != "e":
            continue
        nonce = b"AwsDbeField" + b"\x2c" + struct.pack(">I", offset * 3)
        stream = Cipher(algorithms.AES(root), modes.CTR(nonce)).encryptor().update(bytes(44))
        t, b = values[n]
        out[n] = decode(t, AESGCM(stream[:32]).decrypt(stream[32:44], b, path(n)))
        offset += 1
    return out
