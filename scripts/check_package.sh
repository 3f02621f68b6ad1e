#!/usr/bin/env bash
# Release check: build the sdist and the wheel, install the wheel (with the demo extra) into a
# fresh virtual environment, import it there and run the demo from it.
#
#   bash scripts/check_package.sh            # uses `python` from PATH (scripts/test.sh: .venv)
#
# Proves that what would be uploaded installs on its own: the wheel carries every module,
# py.typed and the console script, and its declared dependencies are enough to run.
# pip's download cache is reused, so after the first run this takes seconds plus pip's
# install time; on a fresh machine it downloads what the demo extra needs once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="$(mktemp -d "${TMPDIR:-/tmp}/pynamodb-encryption-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "+ python -m build --outdir $work/dist"
python -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
sdist=("$work"/dist/*.tar.gz)
wheel=("$work"/dist/*.whl)
[[ -f "${sdist[0]}" && -f "${wheel[0]}" ]] || { echo "build made no sdist or no wheel"; exit 1; }
echo "built $(basename "${sdist[0]}") and $(basename "${wheel[0]}")"

# What a release must carry.
python - "${wheel[0]}" "${sdist[0]}" <<'PY'
import sys, tarfile, zipfile

wheel, sdist = sys.argv[1], sys.argv[2]
names = set(zipfile.ZipFile(wheel).namelist())
for required in ("pynamodb_encryption/__init__.py", "pynamodb_encryption/py.typed"):
    assert required in names, f"the wheel lacks {required}"
assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "the wheel lacks LICENSE"
assert not any("/tests/" in n or n.startswith("tests/") for n in names), "tests in the wheel"
members = {m.split("/", 1)[1] for m in tarfile.open(sdist).getnames() if "/" in m}
for required in ("LICENSE", "README.md", "SECURITY.md", "pyproject.toml", "src/pynamodb_encryption/py.typed"):
    assert required in members, f"the sdist lacks {required}"
print(f"wheel: {len(names)} files; sdist: {len(members)} files")
PY

# No pip inside the new venv when this pip can install into another interpreter (pip >= 22.3:
# ensurepip alone takes seconds). --no-compile: byte-compiling botocore and moto would be most
# of the time, for one run.
pip_help="$(python -m pip --help 2>/dev/null || true)"
if [[ "$pip_help" == *"--python "* ]]; then
    echo "+ python -m venv --without-pip $work/venv; pip --python $work/venv/bin/python install '<wheel>[demo]'"
    python -m venv --without-pip "$work/venv"
    pip_install=(python -m pip --python "$work/venv/bin/python")
else
    echo "+ python -m venv $work/venv; $work/venv/bin/pip install '<wheel>[demo]'"
    python -m venv "$work/venv"
    pip_install=("$work/venv/bin/python" -m pip)
fi
"${pip_install[@]}" install --disable-pip-version-check --quiet --no-compile "${wheel[0]}[demo]"
cd "$work"  # away from the checkout: the installed package must be the one imported
"$work/venv/bin/python" - <<'PY'
import pathlib, pynamodb_encryption

where = pathlib.Path(pynamodb_encryption.__file__).resolve()
assert "site-packages" in where.parts, f"imported from {where}, not from the installed wheel"
print(f"import pynamodb_encryption: ok ({where.parent})")
PY
echo "+ pynamodb-encryption demo --json"
"$work/venv/bin/pynamodb-encryption" demo --json >"$work/demo.json"
"$work/venv/bin/python" - "$work/demo.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
assert report["embedded"] is True and report["plaintext"], "unexpected demo output"
print("demo --json from the installed wheel: ok")
PY
