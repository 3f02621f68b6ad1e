"""Keys named by their JCE algorithm, over pyca/cryptography primitives.

Key objects are the only place where key bytes live. Their ``repr`` shows the algorithm and
size, never the material, and they do not define ``==`` (a comparison of secrets that is not
constant-time would be a trap).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from ..errors import ConfigurationError

__all__ = [
    "KeyUnwrapError",
    "RsaPrivateKey",
    "RsaPublicKey",
    "Signer",
    "SymmetricKey",
    "Verifier",
]

_HMAC_HASHES = {
    "HmacSHA224": "sha224",
    "HmacSHA256": "sha256",
    "HmacSHA384": "sha384",
    "HmacSHA512": "sha512",
}
_RSA_SIGNATURE_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA224withRSA": hashes.SHA224,
    "SHA256withRSA": hashes.SHA256,
    "SHA384withRSA": hashes.SHA384,
    "SHA512withRSA": hashes.SHA512,
}
_OAEP_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RSA/ECB/OAEPWithSHA-1AndMGF1Padding": hashes.SHA1,
    "RSA/ECB/OAEPWithSHA-256AndMGF1Padding": hashes.SHA256,
    "RSA/ECB/OAEPWithSHA-384AndMGF1Padding": hashes.SHA384,
    "RSA/ECB/OAEPWithSHA-512AndMGF1Padding": hashes.SHA512,
}
# With no wrap algorithm in the material description, an "RSA" unwrapping key means the JCE
# default transformation, PKCS#1 v1.5 (old Java items).
_RSA_PKCS1 = ("RSA", "RSA/ECB/PKCS1Padding")
AES_WRAP = "AESWrap"
RSA_OAEP_SHA256 = "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"
_AES_NAMES = ("AES", "AESWrap")
_AES_SIZES = (16, 24, 32)


class KeyUnwrapError(ValueError):
    """Internal: a wrapped key did not unwrap (wrong key, tampered or unknown algorithm)."""


@runtime_checkable
class Signer(Protocol):
    """Something that signs the string-to-sign (an HMAC key, an RSA private key, an HSM)."""

    @property
    def algorithm(self) -> str:
        """JCE name of the signature algorithm, e.g. ``HmacSHA256`` or ``SHA256withRSA``."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Return the signature of ``data``."""
        ...


@runtime_checkable
class Verifier(Protocol):
    """Something that checks a signature made by a `Signer`."""

    @property
    def algorithm(self) -> str:
        """JCE name of the signature algorithm."""
        ...

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is valid for ``data``; compares in constant time."""
        ...


class SymmetricKey:
    """A raw symmetric key: ``AES`` (content encryption and AESWrap) or ``HmacSHA*`` (signing).

    Args:
        material: the key bytes (16, 24 or 32 for AES; any non-empty length for HMAC).
        algorithm: the JCE algorithm name.
    """

    __slots__ = ("_aes", "_algorithm", "_digest", "_material")

    def __init__(self, material: bytes, algorithm: str) -> None:
        if not isinstance(material, (bytes, bytearray)):
            raise ConfigurationError("key material must be bytes")
        if not isinstance(algorithm, str):
            raise ConfigurationError("algorithm must be a JCE algorithm name (str)")
        material = bytes(material)
        self._algorithm = algorithm
        self._material = material
        self._digest: str | None = None
        self._aes: algorithms.AES | None = None
        if algorithm in _AES_NAMES:
            if len(material) not in _AES_SIZES:
                raise ConfigurationError(
                    f"an AES key must be 16, 24 or 32 bytes long, not {len(material)}"
                )
            self._aes = algorithms.AES(material)
        elif algorithm in _HMAC_HASHES:
            if not material:
                raise ConfigurationError("an HMAC key must not be empty")
            self._digest = _HMAC_HASHES[algorithm]
        else:
            raise ConfigurationError(
                f"unknown symmetric key algorithm {algorithm!r}: use 'AES' or one of "
                f"{sorted(_HMAC_HASHES)}"
            )

    @classmethod
    def _content_key(cls, material: bytes) -> SymmetricKey:
        """An AES key from bytes the library just made or unwrapped (a per-item content key).

        Internal fast path for providers: skips the argument checks of ``__init__``, which
        cost as much as the rest of building the key; ``algorithms.AES`` still checks the size.
        """
        key = cls.__new__(cls)
        key._aes = algorithms.AES(material)
        key._algorithm = "AES"
        key._material = material
        key._digest = None
        return key

    @classmethod
    def generate(cls, algorithm: str = "AES", bits: int = 256) -> SymmetricKey:
        """A fresh random key (``os.urandom``)."""
        if not isinstance(bits, int) or isinstance(bits, bool) or bits % 8 or bits <= 0:
            raise ConfigurationError("key size must be a positive multiple of 8 bits")
        return cls(os.urandom(bits // 8), algorithm)

    @property
    def algorithm(self) -> str:
        """The JCE algorithm name."""
        return self._algorithm

    @property
    def key_bits(self) -> int:
        """Key length in bits."""
        return len(self._material) * 8

    def export_material(self) -> bytes:
        """The raw key bytes. Only for storing the key somewhere safe (a meta store, a key file)."""
        return self._material

    def __repr__(self) -> str:
        return f"SymmetricKey(algorithm={self._algorithm!r}, bits={self.key_bits})"

    # -- signing --------------------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        if self._digest is None:
            raise ConfigurationError(f"a {self._algorithm} key cannot sign: use an HmacSHA* key")
        return hmac.digest(self._material, data, self._digest)

    def verify(self, signature: bytes, data: bytes) -> bool:
        if self._digest is None:
            raise ConfigurationError(f"a {self._algorithm} key cannot verify: use an HmacSHA* key")
        return hmac.compare_digest(hmac.digest(self._material, data, self._digest), signature)

    # -- content encryption (AES/CBC/PKCS5Padding) ------------------------------------------

    def _require_aes(self) -> algorithms.AES:
        if self._aes is None:
            raise ConfigurationError(f"a {self._algorithm} key cannot encrypt: use an AES key")
        return self._aes

    def encrypt_cbc(self, plaintext: bytes, iv: bytes) -> bytes:
        """AES-CBC with PKCS#7 padding; returns ``iv || ciphertext`` as the format stores it."""
        return self.cbc_encryptor().encrypt(plaintext, iv)

    def decrypt_cbc(self, data: bytes) -> bytes:
        """Inverse of `encrypt_cbc`. Raises ``ValueError`` on any malformed input."""
        return self.cbc_decryptor().decrypt(data)

    def cbc_encryptor(self) -> CbcEncryptor:
        """One cipher context for encrypting several values (each with its own IV)."""
        return CbcEncryptor(self._require_aes())

    def cbc_decryptor(self) -> CbcDecryptor:
        """One cipher context for decrypting several ``iv || ciphertext`` values."""
        return CbcDecryptor(self._require_aes())

    # -- key wrapping (AESWrap, RFC 3394) -------------------------------------------------

    def wrap(self, key: bytes, algorithm: str) -> bytes:
        if algorithm != AES_WRAP:
            raise ConfigurationError(f"an AES key wraps with AESWrap, not {algorithm!r}")
        return aes_key_wrap(self._require_aes_wrap(), key)

    def unwrap(self, wrapped: bytes, algorithm: str) -> bytes:
        if algorithm != AES_WRAP:
            raise KeyUnwrapError("unsupported wrapping algorithm for an AES key")
        try:
            return aes_key_unwrap(self._require_aes_wrap(), wrapped)
        except (InvalidUnwrap, ValueError) as exc:
            raise KeyUnwrapError("key unwrap failed") from exc

    def _require_aes_wrap(self) -> bytes:
        self._require_aes()
        return self._material

    @property
    def default_wrap_algorithm(self) -> str:
        return AES_WRAP


# Building a cryptography ``Cipher`` costs ~4 us (validation, then an OpenSSL context with a
# fresh key schedule), against ~0.2 us for an ``update`` on an existing context. An item has
# one encrypted value per attribute, each with its own random IV, so per-value contexts would
# be the largest cost of a whole item. CBC lets one context serve them all, with output that is
# byte for byte that of separate contexts:
#
# * encrypting, the context chains each block with the previous ciphertext block ``last``;
#   feeding ``P1 ^ IV ^ last`` as the first block yields ``E(P1 ^ IV)``, exactly the first
#   block of a fresh CBC(IV) encryption, and the rest of the value chains on from there;
# * decrypting, feeding the stored ``IV || C1 ... Cn`` makes the context decrypt the IV as a
#   junk block (dropped) and then chain ``C1`` with the IV, exactly CBC(IV) decryption.
#
# The context is created with an all-zero IV, which only ever reaches the dropped or
# cancelled-out positions. cryptography never pads and OpenSSL's CBC with padding off
# returns every whole block at once, so each ``update`` gives back as many bytes as it got.
_ZERO_BLOCK = bytes(16)
_ZERO_IV_CBC = modes.CBC(_ZERO_BLOCK)  # immutable, so shared
_PADDING = tuple(bytes((n,)) * n for n in range(17))
# From this size on (bytes), values take paths that avoid copies, which cost more than the few
# extra calls they need; below it, fewer calls win.
LARGE_VALUE = 16 * 1024


class CbcEncryptor:
    """AES-CBC/PKCS#7 over one cipher context; see the comment above for why it is exact.

    Single-threaded by nature (the chain state is per instance): make one per item.
    """

    __slots__ = ("_last", "_update")

    def __init__(self, aes: algorithms.AES) -> None:
        self._update = Cipher(aes, _ZERO_IV_CBC).encryptor().update
        self._last = 0

    def encrypt(self, plaintext: bytes, iv: bytes) -> bytes:
        """``iv || AES-CBC(iv, PKCS#7(plaintext))``; ``iv`` must be 16 fresh random bytes."""
        if len(iv) != 16:
            raise ValueError("the IV must be 16 bytes")
        return self.encrypt_all((plaintext,), iv)[0]

    def encrypt_all(self, plaintexts: Sequence[bytes], ivs: bytes) -> list[bytes]:
        """`encrypt` for each plaintext, the i-th 16 bytes of ``ivs`` being its IV."""
        if len(ivs) != 16 * len(plaintexts):
            raise ValueError("each plaintext needs its own 16-byte IV")
        update = self._update
        from_bytes = int.from_bytes
        last = self._last
        out = []
        offset = 0
        for plaintext in plaintexts:
            iv = ivs[offset : offset + 16]
            offset += 16
            size = len(plaintext)
            if size >= LARGE_VALUE:
                # No padded copy and no re-assembled input: the first block, the whole blocks
                # straight from the plaintext's buffer, then the last partial block and its
                # padding. Each copy of a value this size costs as much as hashing it.
                full = size - size % 16
                first = from_bytes(plaintext[:16], "big") ^ from_bytes(iv, "big") ^ last
                head = update(first.to_bytes(16, "big"))
                middle = update(memoryview(plaintext)[16:full])
                tail = update(plaintext[full:] + _PADDING[16 - size % 16])
                last = from_bytes(tail, "big")
                out.append(b"".join((iv, head, middle, tail)))
                continue
            padded = plaintext + _PADDING[16 - size % 16]
            first = from_bytes(padded[:16], "big") ^ from_bytes(iv, "big") ^ last
            body = update(first.to_bytes(16, "big") + padded[16:])
            last = from_bytes(body[-16:], "big")
            out.append(iv + body)
        self._last = last
        return out


def is_cbc_blob(data: bytes) -> bool:
    """True when ``data`` has the shape of ``iv || ciphertext``: two or more whole blocks."""
    return len(data) >= 32 and not len(data) % 16


class CbcDecryptor:
    """Inverse of `CbcEncryptor`: one context, any number of ``iv || ciphertext``."""

    __slots__ = ("_update",)

    def __init__(self, aes: algorithms.AES) -> None:
        self._update = Cipher(aes, _ZERO_IV_CBC).decryptor().update

    def decrypt(self, data: bytes) -> bytes:
        """The plaintext of ``iv || ciphertext``. Raises ``ValueError`` on malformed input."""
        plaintext = self.decrypt_all((data,))[0]
        if plaintext is None:
            raise ValueError("bad padding")
        return plaintext

    def decrypt_all(self, blobs: Sequence[bytes]) -> list[bytes | None]:
        """The plaintexts of several ``iv || ciphertext``, with one ``update`` for all.

        ``None`` stands for a value whose padding is malformed, so that the caller can report
        failures in its own order. Raises ``ValueError`` if any value is not whole blocks.
        """
        return [None if p is None else bytes(p) for p in self.decrypt_views(blobs)]

    def decrypt_views(self, blobs: Sequence[bytes]) -> list[bytes | memoryview | None]:
        """`decrypt_all`, except that large plaintexts (``LARGE_VALUE`` bytes of ciphertext
        and more) come as memoryviews into the decrypted buffer: no copy is made of them."""
        for blob in blobs:
            if len(blob) < 32 or len(blob) % 16:
                raise ValueError("ciphertext length is not a whole number of blocks")
        plaintexts: list[bytes | memoryview | None] = []
        update = self._update
        if sum(map(len, blobs)) >= LARGE_VALUE:
            # Large values: one update each, so that no joined copy of them all is made.
            for blob in blobs:
                out = update(blob)
                pad = out[-1]
                if 1 <= pad <= 16 and out[-pad:] == _PADDING[pad]:
                    large = len(out) >= LARGE_VALUE
                    plaintexts.append(memoryview(out)[16:-pad] if large else out[16:-pad])
                else:
                    plaintexts.append(None)
            return plaintexts
        out = update(b"".join(blobs))
        start = 0
        for blob in blobs:
            end = start + len(blob)
            pad = out[end - 1]
            # The first block decrypted the IV (junk). Only ever called after the item
            # signature was verified, so padding errors are not a padding oracle.
            if 1 <= pad <= 16 and out[end - pad : end] == _PADDING[pad]:
                plaintexts.append(out[start + 16 : end - pad])
            else:
                plaintexts.append(None)
            start = end
        return plaintexts


def _check_rsa_algorithm(algorithm: str) -> None:
    if not isinstance(algorithm, str):
        raise ConfigurationError("algorithm must be a JCE algorithm name (str)")
    if algorithm not in _RSA_SIGNATURE_HASHES and algorithm != "RSA":
        raise ConfigurationError(
            f"unknown RSA key algorithm {algorithm!r}: use 'RSA' for key wrapping or one of "
            f"{sorted(_RSA_SIGNATURE_HASHES)} for signing"
        )


def _oaep(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm in _OAEP_HASHES:
        # Java's OAEP transformations always use MGF1 with SHA-1, whatever the OAEP hash.
        return padding.OAEP(
            mgf=padding.MGF1(hashes.SHA1()),  # noqa: S303 - required by the wire format
            algorithm=_OAEP_HASHES[algorithm](),
            label=None,
        )
    if algorithm in _RSA_PKCS1:
        return padding.PKCS1v15()
    raise KeyUnwrapError("unsupported RSA wrapping algorithm")


class RsaPublicKey:
    """An RSA public key: wraps content keys (``RSA``) or verifies signatures (``SHA*withRSA``)."""

    __slots__ = ("_algorithm", "_key")

    def __init__(self, key: rsa.RSAPublicKey, algorithm: str) -> None:
        if not isinstance(key, rsa.RSAPublicKey):
            raise ConfigurationError("not an RSA public key")
        _check_rsa_algorithm(algorithm)
        self._key = key
        self._algorithm = algorithm

    @classmethod
    def from_der(cls, der: bytes, algorithm: str) -> RsaPublicKey:
        """Load a DER SubjectPublicKeyInfo."""
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("could not load the RSA public key (DER)") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ConfigurationError("the DER public key is not an RSA key")
        return cls(key, algorithm)

    @classmethod
    def from_pem(cls, pem: bytes, algorithm: str) -> RsaPublicKey:
        """Load a PEM ``PUBLIC KEY``."""
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("could not load the RSA public key (PEM)") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ConfigurationError("the PEM public key is not an RSA key")
        return cls(key, algorithm)

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def key_bits(self) -> int:
        return self._key.key_size

    @property
    def default_wrap_algorithm(self) -> str:
        return RSA_OAEP_SHA256

    def with_algorithm(self, algorithm: str) -> RsaPublicKey:
        """The same key, used for another algorithm."""
        return RsaPublicKey(self._key, algorithm)

    def to_der(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return f"RsaPublicKey(algorithm={self._algorithm!r}, bits={self.key_bits})"

    def verify(self, signature: bytes, data: bytes) -> bool:
        hash_type = _RSA_SIGNATURE_HASHES.get(self._algorithm)
        if hash_type is None:
            raise ConfigurationError(f"an {self._algorithm!r} key cannot verify signatures")
        try:
            self._key.verify(signature, data, padding.PKCS1v15(), hash_type())
        except InvalidSignature:
            return False
        return True

    def wrap(self, key: bytes, algorithm: str) -> bytes:
        try:
            scheme = _oaep(algorithm)
        except KeyUnwrapError as exc:
            raise ConfigurationError(f"cannot wrap with {algorithm!r}") from exc
        return self._key.encrypt(key, scheme)


class RsaPrivateKey:
    """An RSA private key: unwraps content keys (``RSA``) or signs (``SHA*withRSA``)."""

    __slots__ = ("_algorithm", "_key")

    def __init__(self, key: rsa.RSAPrivateKey, algorithm: str) -> None:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError("not an RSA private key")
        _check_rsa_algorithm(algorithm)
        self._key = key
        self._algorithm = algorithm

    @classmethod
    def generate(cls, algorithm: str = "RSA", bits: int = 3072) -> RsaPrivateKey:
        """A fresh key pair (public exponent 65537)."""
        if bits < 2048:
            raise ConfigurationError("RSA keys must be at least 2048 bits")
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits), algorithm)

    @classmethod
    def from_der(cls, der: bytes, algorithm: str, password: bytes | None = None) -> RsaPrivateKey:
        """Load a DER PKCS#8 (or PKCS#1) private key."""
        try:
            key = serialization.load_der_private_key(der, password=password)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("could not load the RSA private key (DER)") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError("the DER private key is not an RSA key")
        return cls(key, algorithm)

    @classmethod
    def from_pem(cls, pem: bytes, algorithm: str, password: bytes | None = None) -> RsaPrivateKey:
        """Load a PEM private key."""
        try:
            key = serialization.load_pem_private_key(pem, password=password)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("could not load the RSA private key (PEM)") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError("the PEM private key is not an RSA key")
        return cls(key, algorithm)

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def key_bits(self) -> int:
        return self._key.key_size

    def public_key(self) -> RsaPublicKey:
        """The public half, with the same algorithm."""
        return RsaPublicKey(self._key.public_key(), self._algorithm)

    def with_algorithm(self, algorithm: str) -> RsaPrivateKey:
        """The same key, used for another algorithm."""
        return RsaPrivateKey(self._key, algorithm)

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted when a password is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def __repr__(self) -> str:
        return f"RsaPrivateKey(algorithm={self._algorithm!r}, bits={self.key_bits})"

    def sign(self, data: bytes) -> bytes:
        hash_type = _RSA_SIGNATURE_HASHES.get(self._algorithm)
        if hash_type is None:
            raise ConfigurationError(
                f"an {self._algorithm!r} key cannot sign: load it with a 'SHA*withRSA' algorithm"
            )
        return self._key.sign(data, padding.PKCS1v15(), hash_type())

    def verify(self, signature: bytes, data: bytes) -> bool:
        return self.public_key().verify(signature, data)

    def unwrap(self, wrapped: bytes, algorithm: str) -> bytes:
        scheme = _oaep(algorithm)
        try:
            return self._key.decrypt(wrapped, scheme)
        except ValueError as exc:
            raise KeyUnwrapError("key unwrap failed") from exc


def is_signing_algorithm(algorithm: str) -> bool:
    """True for the JCE names of the MAC and signature algorithms the format uses."""
    return algorithm in _HMAC_HASHES or algorithm in _RSA_SIGNATURE_HASHES
