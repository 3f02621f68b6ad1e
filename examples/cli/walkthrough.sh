#!/usr/bin/env bash
# The CLI from key generation to inspection, against any DynamoDB API.
# Usage: ENDPOINT=http://127.0.0.1:8000 bash examples/cli/walkthrough.sh
# (run it in an empty folder: the keys are written to the current directory)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${ENDPOINT:?set ENDPOINT to a DynamoDB API URL}"
cp "$HERE/provider-config.json" "$HERE/most-recent-config.json" .

# --8<-- [start:keygen]
# Keys go to files created with mode 0600; nothing is printed but the config entry to use.
pynamodb-encryption keygen aes --out wrap.key
pynamodb-encryption keygen hmac --out sign.key
# --8<-- [end:keygen]

# --8<-- [start:metastore]
# The most-recent config names the meta table, the material and the meta provider's keys.
export PYNAMODB_ENCRYPTION_PROVIDER_CONFIG=most-recent-config.json
pynamodb-encryption metastore create --endpoint-url "$ENDPOINT"       # table + version 0
pynamodb-encryption metastore new-version --endpoint-url "$ENDPOINT"  # rotate: version 1
pynamodb-encryption metastore list --endpoint-url "$ENDPOINT"
# --8<-- [end:metastore]

# An item to look at: the meta store's own items are encrypted items too.
unset PYNAMODB_ENCRYPTION_PROVIDER_CONFIG
# --8<-- [start:inspect]
# Without keys: provider, algorithms, wrapped-key kind; nothing is decrypted.
pynamodb-encryption inspect --endpoint-url "$ENDPOINT" \
    --table example-keys --key N=orders --sort V=1
# With keys (the meta provider's config): verified, decrypted, actions found from the signature.
# Decrypted values are masked (type and size) unless --show-values; key bytes are never shown.
pynamodb-encryption inspect --endpoint-url "$ENDPOINT" \
    --table example-keys --key N=orders --sort V=1 --provider-config provider-config.json
pynamodb-encryption inspect --endpoint-url "$ENDPOINT" \
    --table example-keys --key N=orders --sort V=1 --provider-config provider-config.json \
    --show-values
# --8<-- [end:inspect]
