"""A thin test driver for beacons on DynamoDB Local: write items through `BeaconItemEncryptor`,
send the rewritten requests with boto3 directly, decrypt and re-filter.

It stands in for the boto3 helpers' query integration (not built yet) and mirrors what AWS's
test-vector runner does with its intercepted client (``TestVectors/dafny/DDBEncryption``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from _dbe_vectors import branch_key_id, static_key_store

from pynamodb_encryption.dbesdk import (
    BeaconItemEncryptor,
    BeaconVersion,
    CompoundBeacon,
    Constructor,
    ConstructorPart,
    CryptoAction,
    DbEsdkItemEncryptor,
    EncryptedPart,
    HierarchicalKeyring,
    SignedPart,
    SingleBeaconKeySource,
    StandardBeacon,
    prepare_query,
)


def beacon_version(search: Mapping[str, Any]) -> BeaconVersion:
    """Our `BeaconVersion` for one of AWS's JSON ``search.versions`` entries."""
    standard = tuple(
        StandardBeacon(
            b["Name"],
            b["Length"],
            location=b.get("Loc"),
            number_of_partitions=b.get("numberOfPartitions"),
        )
        for b in search.get("standardBeacons", ())
    )
    compound = []
    for c in search.get("compoundBeacons", ()):
        constructors = None
        if "Constructors" in c:
            constructors = tuple(
                Constructor(
                    tuple(ConstructorPart(p["Name"], p.get("Required", True)) for p in cons)
                )
                for cons in c["Constructors"]
            )
        compound.append(
            CompoundBeacon(
                c["Name"],
                c["Split"],
                encrypted=tuple(
                    EncryptedPart(p["Name"], p["Prefix"]) for p in c.get("Encrypted", ())
                ),
                signed=tuple(
                    SignedPart(p["Name"], p["Prefix"], location=p.get("Loc"))
                    for p in c.get("Signed", ())
                ),
                constructors=constructors,
            )
        )
    return BeaconVersion(
        standard_beacons=standard,
        compound_beacons=tuple(compound),
        key_source=SingleBeaconKeySource(
            key_store=static_key_store(), beacon_key_id=branch_key_id()
        ),
        maximum_number_of_partitions=search.get("maximumNumberOfPartitions", 1),
    )


class Driver:
    """One table under one of AWS's table configurations (``{}``: plaintext)."""

    def __init__(self, client: Any, table: str, config: Mapping[str, Any]) -> None:
        self.client = client
        self.table = table
        self.encryptor: DbEsdkItemEncryptor | None = None
        self.beacons: BeaconItemEncryptor | None = None
        if "attributeActionsOnEncrypt" not in config:
            return
        versions = config.get("search", {}).get("versions", ())
        version = beacon_version(versions[0]) if versions else None
        actions = {k: CryptoAction[v] for k, v in config["attributeActionsOnEncrypt"].items()}
        if version is not None:
            actions.update(version.signed_beacon_actions())
        self.encryptor = DbEsdkItemEncryptor(
            table_name=table,
            partition_key_name=config.get("partitionKeyName", "RecNum"),
            attribute_actions=actions,
            keyring=HierarchicalKeyring(
                key_store=static_key_store(), branch_key_id=branch_key_id()
            ),
            allowed_unsigned_attributes=config.get("allowedUnsignedAttributes", ()),
        )
        if version is not None:
            self.beacons = BeaconItemEncryptor(self.encryptor, version)

    def put(self, item: Mapping[str, Any]) -> dict[str, Any]:
        if self.beacons is not None:
            stored = self.beacons.encrypt(item)
        elif self.encryptor is not None:
            stored = self.encryptor.encrypt(item)
        else:
            stored = dict(item)
        self.client.put_item(TableName=self.table, Item=stored)
        return stored

    def search(self, request: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """Items matching a Query (with KeyConditionExpression) or Scan request, and how many
        items DynamoDB read to find them."""
        scan = "KeyConditionExpression" not in request
        request = {"TableName": self.table, **request}
        prepared = None
        table = self.beacons or self.encryptor
        if table is not None:
            prepared = prepare_query(table, request, scan=scan)
            request = dict(prepared.request)
        call = self.client.scan if scan else self.client.query
        out: list[dict[str, Any]] = []
        read = 0
        start = None
        while True:
            page = call(**request, **({"ExclusiveStartKey": start} if start else {}))
            read += len(page["Items"])
            if prepared is not None:
                out.extend(prepared.decrypt(page["Items"]))
            else:
                out.extend(dict(stored) for stored in page["Items"])
            start = page.get("LastEvaluatedKey")
            if not start:
                return out, read
