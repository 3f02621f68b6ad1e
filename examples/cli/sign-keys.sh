#!/usr/bin/env bash
# Moves a table whose key attributes are unsigned (the reference library's layout under a
# DO_NOTHING default, read by models with Meta.key_action = CryptoAction.DO_NOTHING) to signed
# keys, without changing anything else. The table `orders` has keys pk and sk, an encrypted
# `secret` and a signed `amount`; keys.json is the provider config of the keys in use.
# Usage: ENDPOINT=http://127.0.0.1:8000 bash examples/cli/sign-keys.sh   (keys.json in the cwd)
set -euo pipefail
: "${ENDPOINT:?set ENDPOINT to a DynamoDB API URL}"

# --8<-- [start:sign-keys]
pynamodb-encryption reencrypt --table orders --endpoint-url "$ENDPOINT" \
    --old-provider-config keys.json --new-provider-config keys.json \
    --old-default-action nothing --old-encrypt secret --old-sign amount \
    --new-default-action nothing --new-encrypt secret --new-sign pk,sk,amount
# --8<-- [end:sign-keys]
