"""Documentation sources stay true: quoted snippets exist, the README's model is the example's.

Pure file checks (the site itself is built by ``mkdocs build --strict`` in CI).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = re.compile(r'^\s*--8<--\s+"([^"]+)"\s*$', re.MULTILINE)
MARKER = "# --8<-- [{kind}:{name}]"


def _doc_pages() -> list[Path]:
    return sorted((ROOT / "docs").rglob("*.md"))


def _snippet_text(reference: str) -> str:
    path, _, section = reference.partition(":")
    text = (ROOT / path).read_text(encoding="utf-8")
    if not section:
        return text
    start = text.index(MARKER.format(kind="start", name=section))
    end = text.index(MARKER.format(kind="end", name=section))
    body = text[start:end].split("\n", 1)[1]
    lines = [line for line in body.splitlines() if line.strip()]
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join(line[indent:] for line in body.rstrip().splitlines())


@pytest.mark.parametrize("page", _doc_pages(), ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_every_snippet_reference_resolves(page: Path) -> None:
    for reference in SNIPPET.findall(page.read_text(encoding="utf-8")):
        path = reference.partition(":")[0]
        assert (ROOT / path).is_file(), f"{page.name}: {path} does not exist"
        # Code comes from the tested examples; measured figures may come from benchmarks/.
        assert path.startswith(("examples/", "benchmarks/")), (
            f"{page.name}: code samples come from examples/"
        )
        assert _snippet_text(reference).strip(), f"{page.name}: {reference} is empty"


def test_readme_model_is_the_tested_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    model = _snippet_text("examples/demo_model.py:model").strip()
    assert model in [block.strip() for block in blocks]


def test_readme_gives_exactly_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [b.strip() for b in re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)]
    assert commands == [
        "pip install -e '.[demo]' && pynamodb-encryption demo",
        "bash scripts/test.sh",
    ]
    assert (ROOT / "scripts" / "test.sh").is_file()


def test_mkdocs_nav_lists_every_page() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in _doc_pages():
        relative = page.relative_to(ROOT / "docs").as_posix()
        assert relative in config, f"{relative} is not in the mkdocs nav"
