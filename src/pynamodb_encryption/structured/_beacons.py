"""DB-ESDK searchable encryption: beacon configuration and the beacon engine (pure, no I/O).

A beacon is a truncated HMAC of a plaintext value, stored beside the ciphertext as
``aws_dbe_b_<name>`` so that DynamoDB can index and compare it. Everything here follows AWS's
``Beacon.dfy``, ``CompoundBeacon.dfy``, ``SearchInfo.dfy`` and ``ConfigToInfo.dfy``
(specification ``searchable-encryption/{beacons,search-config}.md``) so that the values are
byte-identical to what Java/.NET DB-ESDK write.

The configuration is declarative (frozen dataclasses, checked as they are built); the rules
that need the table's attribute actions are checked by `BeaconVersion.bind`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..core._actions import CryptoAction
from ..core._codec import CodecError
from ..errors import ConfigurationError, EncryptionError
from ._materials import BeaconKeyMaterials
from ._serialize import serialize
from ._virtual import VirtualField, parse_location, resolve, value_to_string

__all__ = [
    "BEACON_PREFIX",
    "VERSION_TAG",
    "BeaconKeySource",
    "BeaconVersion",
    "CompoundBeacon",
    "Constructor",
    "ConstructorPart",
    "EncryptedPart",
    "SearchInfo",
    "SignedPart",
    "StandardBeacon",
    "beacon_hash",
    "beacon_length_bounds",
    "hmac_key",
]

BEACON_PREFIX = "aws_dbe_b_"
VERSION_TAG = "aws_dbe_v_1"
_RESERVED = "aws_dbe_"
MAX_PARTITIONS = 255

_E = CryptoAction.ENCRYPT_AND_SIGN
_N = CryptoAction.DO_NOTHING


# ------------------------------------------------------------------------------------------
# Primitives


def hmac_key(beacon_key: bytes, beacon_name: str) -> bytes:
    """The per-beacon HMAC key: HKDF-SHA512(ikm=beacon key, no salt, info, L=64)."""
    info = ("AWS_DBE_SCAN_BEACON" + beacon_name).encode("utf-8")
    return HKDF(algorithm=hashes.SHA512(), length=64, salt=None, info=info).derive(beacon_key)


def _partition_bytes(partition: int) -> bytes:
    return b"" if partition == 0 else bytes([partition])


def beacon_hash(key: bytes, data: bytes, length: int, partition: int = 0) -> str:
    """``basicHash``: the low ``length`` bits of HMAC-SHA384(key, data ‖ partition)[0:8], as hex.

    ``partition`` is the already-constrained partition number (0 adds nothing).
    """
    digest = hmac.new(key, data + _partition_bytes(partition), hashlib.sha384).digest()[:8]
    value = int.from_bytes(digest, "big") & ((1 << length) - 1)
    return format(value, "x").zfill((length + 3) // 4)


def beacon_length_bounds(distinct_values: int) -> tuple[int, int]:
    """The range of beacon lengths DB-ESDK recommends for ``distinct_values`` distinct plaintexts.

    The lower bound keeps queries cheap (``2**N >= sqrt(X)``: few false positives per match);
    the upper bound keeps collisions (``2**N <= X/2``: every beacon value is shared by about two
    plaintexts or more, so a beacon does not name one value). Returns ``(low, high)`` clamped
    to 1..63; ``low > high`` only for very small X, where no length hides the values.
    """
    if not isinstance(distinct_values, int) or distinct_values < 2:
        raise ConfigurationError("distinct_values must be an int >= 2")
    high = max(1, min(63, math.floor(math.log2(distinct_values / 2)) if distinct_values > 2 else 1))
    low = max(1, min(63, math.ceil(math.log2(math.sqrt(distinct_values)))))
    return low, high


def _value_bytes(value: Mapping[str, Any]) -> bytes:
    # TopLevelAttributeToBytes: the serialized value without its type id (N normalized).
    return serialize(dict(value))[1]


# ------------------------------------------------------------------------------------------
# Configuration


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty str")
    return value


@dataclass(frozen=True, slots=True)
class StandardBeacon:
    """A beacon over one encrypted field (or a virtual field built from encrypted fields).

    Args:
        name: the beacon's name; stored as ``aws_dbe_b_<name>``. It is the field's name unless
            ``location`` says otherwise.
        length: bits kept, 1..63 (see `beacon_length_bounds`).
        location: a terminal location (``"a.b[0]"``) or virtual field name; default ``name``.
        as_set: the field is a set; the beacon is a string set of per-element beacons.
        share: hash with the key of this other standard beacon (same length), so that equal
            values in two fields have equal beacons.
        part_only: only used inside compound beacons, never stored.
        number_of_partitions: constrain this beacon to fewer partitions than the version's
            maximum (must be less than it).
    """

    name: str = ""
    length: int = 0
    location: str | None = None
    as_set: bool = False
    share: str | None = None
    part_only: bool = False
    number_of_partitions: int | None = None

    def __post_init__(self) -> None:
        # An unnamed beacon is a model field's declaration (``EncryptedAttribute(...,
        # beacon=StandardBeacon(length=16))``): the model names it after the field.
        if self.name != "":
            _name(self.name, "StandardBeacon(name=...)")
        if (
            not isinstance(self.length, int)
            or isinstance(self.length, bool)
            or not 1 <= self.length <= 63
        ):
            raise ConfigurationError(
                f"standard beacon {self.name!r}: length must be an int from 1 to 63 bits "
                "(see beacon_length_bounds)"
            )
        if self.location is not None:
            parse_location(self.location)
        if self.share is not None:
            _name(self.share, f"standard beacon {self.name!r}: share")
        if self.part_only and (self.as_set or self.share is not None):
            raise ConfigurationError(
                f"standard beacon {self.name!r}: part_only cannot be combined with as_set or share"
            )
        n = self.number_of_partitions
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ConfigurationError(
                f"standard beacon {self.name!r}: number_of_partitions must be a positive int"
            )

    @property
    def key_name(self) -> str:
        return self.share if self.share is not None else self.name


@dataclass(frozen=True, slots=True)
class EncryptedPart:
    """A compound-beacon part: ``prefix`` then the standard beacon ``name`` of the value."""

    name: str
    prefix: str

    def __post_init__(self) -> None:
        _name(self.name, "EncryptedPart(name=...)")
        _name(self.prefix, f"encrypted part {self.name!r}: prefix")


@dataclass(frozen=True, slots=True)
class SignedPart:
    """A compound-beacon part: ``prefix`` then the plaintext of a SIGN_ONLY field."""

    name: str
    prefix: str
    location: str | None = None

    def __post_init__(self) -> None:
        _name(self.name, "SignedPart(name=...)")
        _name(self.prefix, f"signed part {self.name!r}: prefix")
        if self.location is not None:
            parse_location(self.location)


@dataclass(frozen=True, slots=True)
class ConstructorPart:
    """A part named in a `Constructor`; optional parts are left out when their field is absent."""

    name: str
    required: bool = True

    def __post_init__(self) -> None:
        _name(self.name, "ConstructorPart(name=...)")


@dataclass(frozen=True, slots=True)
class Constructor:
    """One way to build a compound beacon: these parts, in this order."""

    parts: tuple[ConstructorPart, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.parts, tuple):
            object.__setattr__(self, "parts", tuple(self.parts))
        if not self.parts:
            raise ConfigurationError("every constructor must have at least one part")
        if not any(p.required for p in self.parts):
            raise ConfigurationError("a constructor needs at least one required part")


@dataclass(frozen=True, slots=True)
class CompoundBeacon:
    """Several parts joined with ``split``: ``T-20221225.S-abcdef``.

    A compound beacon with only signed parts is a *signed beacon*: stored in the clear under
    ``name`` (SIGN_ONLY, usable as a table key), added before the item is signed.
    """

    name: str
    split: str
    encrypted: tuple[EncryptedPart, ...] = ()
    signed: tuple[SignedPart, ...] = ()
    constructors: tuple[Constructor, ...] | None = None

    def __post_init__(self) -> None:
        _name(self.name, "CompoundBeacon(name=...)")
        if not isinstance(self.split, str) or len(self.split) != 1:
            raise ConfigurationError(
                f"compound beacon {self.name!r}: split must be exactly one character"
            )
        for attr in ("encrypted", "signed"):
            v = getattr(self, attr)
            if not isinstance(v, tuple):
                object.__setattr__(self, attr, tuple(v))
        if self.constructors is not None:
            if not isinstance(self.constructors, tuple):
                object.__setattr__(self, "constructors", tuple(self.constructors))
            if not self.constructors:
                raise ConfigurationError(
                    f"compound beacon {self.name!r}: an empty constructor list was supplied "
                    "(leave constructors=None for the default one)"
                )
        elif not self.encrypted and not self.signed:
            raise ConfigurationError(
                f"compound beacon {self.name!r} defines no constructors and no local parts: "
                "cannot make a default constructor from global parts"
            )


@runtime_checkable
class BeaconKeySource(Protocol):
    """Where a beacon version's beacon key comes from (see ``keyrings.SingleBeaconKeySource``).

    ``key_field_name`` is None for a single key; for a multi-tenant source it names the item
    field (and query value) holding the beacon key id.
    """

    @property
    def key_field_name(self) -> str | None: ...

    def beacon_key(self, beacon_key_id: str | None) -> BeaconKeyMaterials: ...


@dataclass(frozen=True, slots=True)
class BeaconVersion:
    """The searchable-encryption configuration of one table (DB-ESDK ``BeaconVersion``)."""

    standard_beacons: tuple[StandardBeacon, ...]
    key_source: BeaconKeySource
    compound_beacons: tuple[CompoundBeacon, ...] = ()
    virtual_fields: tuple[VirtualField, ...] = ()
    encrypted_parts: tuple[EncryptedPart, ...] = ()
    signed_parts: tuple[SignedPart, ...] = ()
    maximum_number_of_partitions: int = 1
    default_number_of_partitions: int | None = None
    version: int = 1

    def __post_init__(self) -> None:
        for attr in (
            "standard_beacons",
            "compound_beacons",
            "virtual_fields",
            "encrypted_parts",
            "signed_parts",
        ):
            v = getattr(self, attr)
            if not isinstance(v, tuple):
                object.__setattr__(self, attr, tuple(v))
        if self.version != 1:
            raise ConfigurationError("BeaconVersion(version=...) must be 1")
        if not self.standard_beacons:
            raise ConfigurationError("at least one standard beacon must be configured")
        for b in self.standard_beacons:
            if isinstance(b, StandardBeacon) and not b.name:
                raise ConfigurationError(
                    "a standard beacon in a BeaconVersion needs a name: StandardBeacon(name=...)"
                )
        if not isinstance(self.key_source, BeaconKeySource):
            raise ConfigurationError(
                "key_source must be a beacon key source (SingleBeaconKeySource or "
                "MultiBeaconKeySource from pynamodb_encryption.dbesdk)"
            )
        m = self.maximum_number_of_partitions
        if not isinstance(m, int) or isinstance(m, bool) or not 1 <= m <= MAX_PARTITIONS:
            raise ConfigurationError(
                f"maximum_number_of_partitions must be an int from 1 to {MAX_PARTITIONS}"
            )
        d = self.default_number_of_partitions
        if d is not None and (not isinstance(d, int) or isinstance(d, bool) or not 1 <= d < m):
            raise ConfigurationError(
                "default_number_of_partitions must be at least 1 and less than "
                "maximum_number_of_partitions (or None for the maximum)"
            )

    def bind(
        self,
        attribute_actions: Mapping[str, CryptoAction],
        *,
        allowed_unsigned_attributes: Iterable[str] = (),
        allowed_unsigned_attribute_prefix: str | None = None,
    ) -> SearchInfo:
        """Check this version against a table's attribute actions; return the beacon engine."""
        return SearchInfo(
            self,
            attribute_actions,
            frozenset(allowed_unsigned_attributes),
            allowed_unsigned_attribute_prefix,
        )

    def signed_beacon_actions(self) -> dict[str, CryptoAction]:
        """The SIGN_ONLY actions to add to the table's attribute actions for signed beacons."""
        std = {b.name for b in self.standard_beacons}
        globals_enc = {p.name for p in self.encrypted_parts}
        out: dict[str, CryptoAction] = {}
        for c in self.compound_beacons:
            has_encrypted = bool(c.encrypted) or any(
                p.name in globals_enc and p.name in std
                for k in (c.constructors or ())
                for p in k.parts
            )
            if not has_encrypted:
                out[c.name] = CryptoAction.SIGN_ONLY
        return out


# ------------------------------------------------------------------------------------------
# Compiled engine


@dataclass(frozen=True, slots=True)
class _Std:
    name: str
    length: int
    path: tuple[str | int, ...]
    as_set: bool
    key_name: str
    part_only: bool
    partitions: int
    virtual: VirtualField | None

    def constrained(self, partition: int) -> int:
        if self.partitions == 0 or partition == 0:
            return partition
        return partition % self.partitions

    def hash_bytes(self, data: bytes, key: bytes, partition: int) -> str:
        return beacon_hash(key, data, self.length, self.constrained(partition))

    def hash_str(self, s: str, key: bytes, partition: int) -> str:
        try:
            data = s.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncryptionError(
                "a beacon value is not valid Unicode", attribute=self.name
            ) from exc
        return self.hash_bytes(data, key, partition)

    def set_value(self, value: Mapping[str, Any], key: bytes, partition: int) -> dict[str, Any]:
        out: list[str] = []
        for kind, single in (("SS", "S"), ("NS", "N"), ("BS", "B")):
            if kind in value:
                for member in value[kind]:
                    h = self.hash_bytes(_value_bytes({single: member}), key, partition)
                    if h not in out:
                        out.append(h)
                return {"SS": out}
        kind = next(iter(value), "?")
        raise EncryptionError(
            f"beacon {self.name} is as_set, but the attribute has type {kind}",
            attribute=self.name,
        )


@dataclass(frozen=True, slots=True)
class _Part:
    prefix: str
    name: str
    encrypted: _Std | None  # None: a signed part
    path: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _Cmp:
    name: str
    stored_name: str
    split: str
    parts: tuple[_Part, ...]
    constructors: tuple[tuple[tuple[_Part, bool], ...], ...]

    @property
    def is_encrypted(self) -> bool:
        return any(p.encrypted is not None for p in self.parts)

    def part_for(self, piece: str) -> _Part:
        for p in self.parts:
            if piece.startswith(p.prefix):
                return p
        raise ConfigurationError(
            f"a value for compound beacon {self.name} does not start with the prefix of any "
            f"of its parts ({', '.join(p.prefix for p in self.parts)})"
        )


class SearchInfo:
    """A `BeaconVersion` checked against a table's attribute actions: computes beacons.

    Build it with `BeaconVersion.bind`. Pure: HMAC keys are passed in (`hmac_keys`).
    """

    __slots__ = (
        "_actions",
        "beacons",
        "encrypted_fields",
        "max_partitions",
        "standard_names",
        "version",
        "virtual_fields",
    )

    def __init__(
        self,
        version: BeaconVersion,
        actions: Mapping[str, CryptoAction],
        unsigned: frozenset[str],
        unsigned_prefix: str | None,
    ) -> None:
        self.version = version
        self._actions = dict(actions)
        self.max_partitions = version.maximum_number_of_partitions
        default_parts = version.default_number_of_partitions or self.max_partitions
        self.encrypted_fields = frozenset(k for k, v in actions.items() if v is _E)

        def allowed(name: str, context: str, signed_beacon: bool = False) -> None:
            # A signed beacon is itself a SIGN_ONLY attribute of the table (DB-ESDK adds that
            # action itself; here the caller does, from signed_beacon_actions()).
            if signed_beacon:
                if name in actions and actions[name] is not CryptoAction.SIGN_ONLY:
                    raise ConfigurationError(
                        f"{name} not allowed as a {context} because a fully signed beacon "
                        "cannot have the same name as an existing attribute"
                    )
            elif name in actions and actions[name] is not _E:
                raise ConfigurationError(
                    f"{name} not allowed as a {context} because it is already an unencrypted "
                    "attribute: rename the beacon or give it location=..."
                )
            if name in unsigned or (
                unsigned_prefix is not None and name.startswith(unsigned_prefix)
            ):
                raise ConfigurationError(
                    f"{name} not allowed as a {context} because it is an unsigned attribute name"
                )
            if name.startswith(_RESERVED):
                raise ConfigurationError(
                    f"{name} not allowed as a {context} because it begins with the reserved "
                    f"prefix {_RESERVED!r}"
                )
            stored = name if signed_beacon else BEACON_PREFIX + name
            if len(stored.encode("utf-8", "surrogatepass")) > 255:
                raise ConfigurationError(
                    f"{stored} is not a valid attribute name (over 255 bytes): shorten the "
                    f"{context}'s name"
                )

        def top(path: tuple[str | int, ...]) -> str:
            return str(path[0])

        # Virtual fields
        vfs: dict[str, VirtualField] = {}
        for vf in version.virtual_fields:
            if vf.name in vfs:
                raise ConfigurationError(f"duplicate virtual field name {vf.name!r}")
            if vf.name in actions:
                raise ConfigurationError(
                    f"{vf.name} not allowed as a virtual field because it is already a "
                    "configured attribute"
                )
            if vf.name.startswith(_RESERVED) or vf.name in unsigned:
                raise ConfigurationError(f"{vf.name} not allowed as a virtual field name")
            for p in vf.parts:
                act = actions.get(top(p.path))
                if act is None or act is _N:
                    raise ConfigurationError(
                        f"virtual field {vf.name} must be defined on signed fields; "
                        f"{top(p.path)!r} is not"
                    )
            locs = {p.path for p in vf.parts}
            for seen in vfs.values():
                if {p.path for p in seen.parts} == locs:
                    raise ConfigurationError(
                        f"virtual field {vf.name} is defined on the same locations as {seen.name}"
                    )
            vfs[vf.name] = vf
        self.virtual_fields = vfs

        def is_encrypted_loc(path: tuple[str | int, ...]) -> bool:
            name = top(path)
            if actions.get(name) is _E:
                return True
            vf = vfs.get(name) if len(path) == 1 else None
            return vf is not None and any(actions.get(top(p.path)) is _E for p in vf.parts)

        # Standard beacons
        std: dict[str, _Std] = {}
        for b in version.standard_beacons:
            if b.name in std:
                raise ConfigurationError(f"duplicate standard beacon name {b.name!r}")
            allowed(b.name, "standard beacon")
            path = parse_location(b.location if b.location is not None else b.name)
            if b.number_of_partitions is not None and b.number_of_partitions >= self.max_partitions:
                raise ConfigurationError(
                    f"standard beacon {b.name}: number_of_partitions is "
                    f"{b.number_of_partitions} but it must be less than "
                    f"maximum_number_of_partitions {self.max_partitions}"
                )
            if not is_encrypted_loc(path):
                raise ConfigurationError(
                    f"standard beacon {b.name} is not defined on an encrypted field: make "
                    f"{top(path)!r} ENCRYPT_AND_SIGN or point location= at an encrypted field"
                )
            for prior in std.values():
                if prior.path == path:
                    raise ConfigurationError(
                        f"beacon {b.name} is defined on location {b.location or b.name}, but "
                        f"beacon {prior.name} is already defined on that location"
                    )
            for vf in vfs.values():
                if len(vf.parts) == 1 and vf.parts[0].path == path:
                    raise ConfigurationError(
                        f"beacon {b.name} is defined on the single location of virtual field "
                        f"{vf.name}"
                    )
            virtual = vfs.get(str(path[0])) if len(path) == 1 else None
            std[b.name] = _Std(
                name=b.name,
                length=b.length,
                path=path,
                as_set=b.as_set,
                key_name=b.key_name,
                part_only=b.part_only,
                partitions=b.number_of_partitions or default_parts,
                virtual=virtual,
            )
        for b in version.standard_beacons:
            if b.share is None:
                continue
            other = std.get(b.share)
            if other is None:
                raise ConfigurationError(
                    f"beacon {b.name} is shared to {b.share} which is not a standard beacon"
                )
            if b.share == b.name:
                raise ConfigurationError(f"beacon {b.name} is shared to itself")
            if other.key_name != other.name:
                raise ConfigurationError(
                    f"beacon {b.name} is shared to {b.share} which is in turn shared to "
                    f"{other.key_name}: share chains are not allowed"
                )
            if other.length != b.length:
                raise ConfigurationError(
                    f"beacon {b.name} is shared to {b.share} but {b.name} has length "
                    f"{b.length} and {b.share} has length {other.length}"
                )
        self.standard_names = tuple(sorted(std))

        # Global parts
        def signed_part(p: SignedPart) -> _Part:
            path = parse_location(p.location if p.location is not None else p.name)
            if actions.get(top(path)) not in (
                CryptoAction.SIGN_ONLY,
                CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT,
            ):
                raise ConfigurationError(
                    f"signed part {p.name} is built from {p.location or p.name} which is not "
                    "SIGN_ONLY"
                )
            return _Part(p.prefix, p.name, None, path)

        def encrypted_part(p: EncryptedPart, where: str) -> _Part:
            s = std.get(p.name)
            if s is None:
                raise ConfigurationError(
                    f"{where} refers to standard beacon {p.name} which is not configured"
                )
            if s.as_set:
                raise ConfigurationError(
                    f"{where} uses {p.name} which is an as_set beacon, and therefore cannot be "
                    "used in a compound beacon"
                )
            return _Part(p.prefix, p.name, s, s.path)

        def add(parts: list[_Part], part: _Part, where: str) -> None:
            for q in parts:
                if q.name == part.name:
                    raise ConfigurationError(f"duplicate part name {part.name} in {where}")
                if q.prefix == part.prefix:
                    raise ConfigurationError(f"duplicate prefix {part.prefix} in {where}")
            parts.append(part)

        global_signed: list[_Part] = []
        for sp in version.signed_parts:
            add(global_signed, signed_part(sp), "the global parts list")
        global_enc: list[_Part] = []
        for ep in version.encrypted_parts:
            add(global_enc, encrypted_part(ep, "the global parts list"), "the global parts list")
        glob_all: list[_Part] = []
        for gp in (*global_signed, *global_enc):
            add(glob_all, gp, "the global parts lists")

        beacons: dict[str, _Std | _Cmp] = dict(std)
        for c in version.compound_beacons:
            where = f"compound beacon {c.name}"
            for sp in c.signed:
                for g in glob_all:
                    if sp.name == g.name or sp.prefix == g.prefix:
                        raise ConfigurationError(
                            f"{where} defines signed part {sp.name} which clashes (name or "
                            "prefix) with a global part"
                        )
            for ep in c.encrypted:
                for g in glob_all:
                    if ep.name == g.name or ep.prefix == g.prefix:
                        raise ConfigurationError(
                            f"{where} defines encrypted part {ep.name} which clashes (name or "
                            "prefix) with a global part"
                        )
            signed: list[_Part] = []
            for sp in c.signed:
                add(signed, signed_part(sp), where)
            enc: list[_Part] = []
            for ep in c.encrypted:
                add(enc, encrypted_part(ep, where), where)
            for k in c.constructors or ():
                for cp in k.parts:
                    for g in global_signed:
                        if g.name == cp.name and all(x.name != g.name for x in signed):
                            add(signed, g, where)
                    for g in global_enc:
                        if g.name == cp.name and all(x.name != g.name for x in enc):
                            add(enc, g, where)
            if c.name in beacons:
                raise ConfigurationError(f"duplicate beacon name {c.name!r}")
            all_parts = (*signed, *enc)
            is_signed_beacon = not enc
            allowed(c.name, "compound beacon", is_signed_beacon)
            for i, p1 in enumerate(all_parts):
                for b2 in all_parts[i + 1 :]:
                    if p1.prefix.startswith(b2.prefix) or b2.prefix.startswith(p1.prefix):
                        raise ConfigurationError(
                            f"compound beacon {c.name} defines part {p1.name} with prefix "
                            f"{p1.prefix} which is incompatible with part {b2.name} which has a "
                            f"prefix of {b2.prefix}: no prefix may be a prefix of another"
                        )
            if c.constructors is None:
                cons: tuple[tuple[tuple[_Part, bool], ...], ...] = (
                    tuple((p, True) for p in all_parts),
                )
            else:
                built: list[tuple[tuple[_Part, bool], ...]] = []
                for k in c.constructors:
                    row: list[tuple[_Part, bool]] = []
                    for cp in k.parts:
                        match = [p for p in all_parts if p.name == cp.name]
                        if not match:
                            raise ConfigurationError(
                                f"a constructor of {c.name} refers to part name {cp.name} but "
                                "there is no part by that name"
                            )
                        row.append((match[0], cp.required))
                    req = {p.name for p, r in row if r}
                    for prev in built:
                        if {p.name for p, r in prev if r} == req:
                            raise ConfigurationError(
                                f"multiple constructors for {c.name} have the same set of "
                                f"required parts: {', '.join(sorted(req))}"
                            )
                    built.append(tuple(row))
                cons = tuple(built)
            beacons[c.name] = _Cmp(
                name=c.name,
                stored_name=c.name if is_signed_beacon else BEACON_PREFIX + c.name,
                split=c.split,
                parts=tuple(all_parts),
                constructors=cons,
            )
        for s in std.values():
            if s.part_only and not any(
                isinstance(b, _Cmp) and any(p.name == s.name for p in b.parts)
                for b in beacons.values()
            ):
                raise ConfigurationError(
                    f"part_only beacon {s.name} must be used in a compound beacon"
                )
        kf = version.key_source.key_field_name
        if kf is not None:
            if kf in beacons:
                raise ConfigurationError(
                    f"a beacon key field name of {kf} was configured, but there's also a "
                    "beacon of that name"
                )
            if kf in vfs:
                raise ConfigurationError(
                    f"a beacon key field name of {kf} was configured, but there's also a "
                    "virtual field of that name"
                )
            if actions.get(kf) is _E:
                raise ConfigurationError(
                    f"beacon key field {kf} is ENCRYPT_AND_SIGN, which is not allowed: make it "
                    "SIGN_ONLY or leave it out of the attribute actions"
                )
        for built_beacon in beacons.values():
            if (
                isinstance(built_beacon, _Cmp)
                and not built_beacon.is_encrypted
                and actions.get(built_beacon.name) is not CryptoAction.SIGN_ONLY
            ):
                raise ConfigurationError(
                    f"signed beacon {built_beacon.name} must be a SIGN_ONLY attribute of the "
                    "table: add BeaconVersion.signed_beacon_actions() to the attribute actions"
                )
        self.beacons = beacons

    # --------------------------------------------------------------------------------------

    def hmac_keys(self, beacon_key: bytes) -> dict[str, bytes]:
        """The HMAC key of every standard beacon, derived from one beacon key."""
        return {name: hmac_key(beacon_key, name) for name in self.standard_names}

    def beacon_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.beacons))

    def stored_name(self, name: str) -> str:
        b = self.beacons[name]
        return b.stored_name if isinstance(b, _Cmp) else BEACON_PREFIX + name

    def _string(self, path: tuple[str | int, ...], item: Mapping[str, Any]) -> str | None:
        if len(path) == 1 and path[0] in self.virtual_fields:
            return _virtual_value(self.virtual_fields[str(path[0])], item)
        raw = resolve(path, item)
        if raw is None:
            return None
        try:
            return value_to_string(raw)
        except ValueError as exc:
            raise EncryptionError(
                "a beacon part's field is not a string, number, boolean or null",
                attribute=str(path[0]),
            ) from exc

    def _std_value(
        self, b: _Std, item: Mapping[str, Any], keys: Mapping[str, bytes], partition: int
    ) -> dict[str, Any] | None:
        key = keys[b.key_name]
        if b.as_set:
            raw = resolve(b.path, item)
            return None if raw is None else b.set_value(raw, key, partition)
        if b.virtual is not None:
            s = _virtual_value(b.virtual, item)
            return None if s is None else {"S": b.hash_str(s, key, partition)}
        raw = resolve(b.path, item)
        if raw is None:
            return None
        try:
            data = _value_bytes(raw)
        except CodecError as exc:
            raise EncryptionError(
                "cannot serialize a beacon's source value", attribute=b.name
            ) from exc
        return {"S": b.hash_bytes(data, key, partition)}

    def _part_value(
        self, c: _Cmp, part: _Part, data: str, keys: Mapping[str, bytes] | None, partition: int
    ) -> str:
        if c.split in data:
            raise EncryptionError(
                f"a value for part {part.name} of beacon {c.name} contains the split "
                f"character {c.split!r}",
                attribute=part.name,
            )
        if part.encrypted is None or keys is None:
            return part.prefix + data
        s = part.encrypted
        return part.prefix + s.hash_str(data, keys[s.key_name], partition)

    def _cmp_value(
        self, c: _Cmp, item: Mapping[str, Any], keys: Mapping[str, bytes] | None, partition: int
    ) -> str | None:
        for cons in c.constructors:
            pieces: list[str] = []
            ok = True
            for part, required in cons:
                s = self._string(part.path, item)
                if s is None:
                    if required:
                        ok = False
                        break
                    continue
                pieces.append(self._part_value(c, part, s, keys, partition))
            if ok:
                return c.split.join(pieces)
        return None

    def signed_beacons(self, item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The signed beacons of a plaintext item (stored under their own names)."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.beacon_names():
            b = self.beacons[name]
            if isinstance(b, _Cmp) and not b.is_encrypted:
                v = self._cmp_value(b, item, None, 0)
                if v is not None:
                    out[b.stored_name] = {"S": v}
        return out

    def encrypted_beacons(
        self, item: Mapping[str, Any], keys: Mapping[str, bytes], partition: int = 0
    ) -> dict[str, dict[str, Any]]:
        """The ``aws_dbe_b_*`` beacons of a plaintext item, given the HMAC keys."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.beacon_names():
            b = self.beacons[name]
            if isinstance(b, _Std):
                if b.part_only:
                    continue
                v = self._std_value(b, item, keys, partition)
                if v is not None:
                    out[BEACON_PREFIX + name] = v
            elif b.is_encrypted:
                s = self._cmp_value(b, item, keys, partition)
                if s is not None:
                    out[b.stored_name] = {"S": s}
        return out

    def plain_value(self, name: str, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """What a beacon stands for in a plaintext item (re-filtering compares against it)."""
        b = self.beacons[name]
        if isinstance(b, _Std):
            if b.virtual is not None:
                s = _virtual_value(b.virtual, item)
                return None if s is None else {"S": s}
            return resolve(b.path, item)
        s = self._cmp_value(b, item, None, 0)
        return None if s is None else {"S": s}

    # --------------------------------------------------------------------------------------
    # Query side

    def less_than_comparable(self, c: _Cmp, pieces: list[str]) -> bool:
        rest = list(pieces)
        while rest and c.part_for(rest[0]).encrypted is None:
            rest.pop(0)
        if not rest:
            return True
        if len(rest) != 1:
            return False
        return c.part_for(rest[0]).prefix == rest[0]

    def query_value(
        self,
        name: str,
        value: Mapping[str, Any],
        keys: Mapping[str, bytes],
        *,
        for_equality: bool,
        for_contains: bool,
        partition: int,
    ) -> dict[str, Any]:
        """The beacon of a query value compared with beacon ``name``."""
        b = self.beacons[name]
        if isinstance(b, _Std):
            key = keys[b.key_name]
            if (b.as_set and not ({"S", "N", "B"} & set(value))) or (
                for_contains and ({"SS", "NS", "BS"} & set(value))
            ):
                return b.set_value(value, key, partition)
            try:
                data = _value_bytes(value)
            except CodecError as exc:
                raise ConfigurationError(
                    f"a query value for beacon {name} is not a valid DynamoDB value"
                ) from exc
            return {"S": b.hash_bytes(data, key, partition)}
        if "S" not in value:
            kind = next(iter(value), "?")
            raise ConfigurationError(
                f"compound beacon {name} can only be queried as a string, not as {kind}"
            )
        text = str(value["S"])
        pieces = text.split(b.split)
        used = [b.part_for(p) for p in pieces]
        self._check_order(b, used, text)
        if not b.is_encrypted:
            return {"S": text}
        out = [
            self._part_value(b, part, piece[len(part.prefix) :], keys, partition)
            for part, piece in zip(used, pieces, strict=True)
        ]
        if not for_equality and pieces[-1] == used[-1].prefix:
            out[-1] = pieces[-1]
        return {"S": b.split.join(out)}

    @staticmethod
    def _check_order(c: _Cmp, used: list[_Part], text: str) -> None:
        def can(con: tuple[tuple[_Part, bool], ...], parts: list[_Part]) -> bool:
            i = 0
            matched = False
            for part, required in con:
                if i == len(parts):
                    return True
                if part == parts[i]:
                    i += 1
                    matched = True
                elif required and matched:
                    return False
            return i == len(parts)

        if not any(can(con, used) for con in c.constructors):
            raise ConfigurationError(
                f"a value for compound beacon {c.name} cannot be built by any of its "
                f"constructors (parts found: {''.join(p.prefix for p in used)}; constructors: "
                + ", ".join(
                    "".join(p.prefix if r else f"[{p.prefix}]" for p, r in con)
                    for con in c.constructors
                )
                + ")"
            )

    def number_of_queries(self, name: str, value: Mapping[str, Any]) -> int:
        """How many partitions a key condition on beacon ``name`` with ``value`` spans."""
        b = self.beacons[name]
        mx = self.max_partitions
        if isinstance(b, _Std):
            return min(b.partitions, mx)
        try:
            if "S" not in value:
                return 1
            pieces = str(value["S"]).split(b.split)
            used = [b.part_for(p) for p in pieces]
            self._check_order(b, used, str(value["S"]))
        except ConfigurationError:
            return 1
        result = 1
        for p in used:
            if p.encrypted is not None:
                result = lcm_partition(result, p.encrypted.partitions, mx)
        return result


def _virtual_value(field: VirtualField, item: Mapping[str, Any]) -> str | None:
    try:
        return field.value(item)
    except ValueError as exc:
        raise EncryptionError(
            f"a part of virtual field {field.name} is not a string, number, boolean or null",
            attribute=field.name,
        ) from exc


def lcm_partition(a: int, b: int, mx: int) -> int:
    if a == 1 or b == mx or a == b:
        return min(b, mx)
    if b == 1 or a == mx:
        return min(a, mx)
    r = math.lcm(a, b)
    return r if r < mx else mx
