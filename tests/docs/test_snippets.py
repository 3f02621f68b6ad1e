"""Every Python sample on the site pastes and runs: each fenced block that quotes example code
is taken as the reader sees it (all its ``--8<--`` regions, in order), and must compile and
define or import every name it uses.

The examples themselves run in the test suite; this checks that what the pages *show* of them
is self-contained (no test scaffolding, no name defined outside the quoted regions). A page
shows an example's ``imports`` region (and helper regions) in the same block as the code.
"""

from __future__ import annotations

import builtins
import re
import symtable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^\s*```")
SNIPPET = re.compile(r'^\s*--8<--\s+"([^"]+)"\s*$')
MARKER = "# --8<-- [{kind}:{name}]"


def region(reference: str) -> str:
    """The text pymdownx.snippets inserts for ``path:section`` (dedented)."""
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


#: Written on the line before a fence: the block continues the page's previous Python samples
#: (a tutorial read top to bottom); it is checked together with them.
CONTINUES = "<!-- continues the sample above -->"


def python_samples() -> list[tuple[str, tuple[str, ...]]]:
    """(page, the regions of one fenced block) for every block quoting a .py example; a
    block marked with `CONTINUES` is preceded by the regions of the page's earlier samples."""
    samples = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        block: list[str] | None = None
        earlier: list[str] = []
        continues = previous = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if FENCE.match(line):
                if block:
                    # A region shown twice (the imports) is pasted once.
                    regions = list(dict.fromkeys([*earlier, *block])) if continues else block
                    samples.append((str(page.relative_to(ROOT / "docs")), tuple(regions)))
                    earlier = [*earlier, *block]
                continues = block is None and previous
                block = None if block is not None else []
                continue
            previous = line.strip() == CONTINUES
            match = SNIPPET.match(line)
            if match and block is not None and match.group(1).partition(":")[0].endswith(".py"):
                block.append(match.group(1))
    return samples


def unresolved_names(source: str) -> set[str]:
    """Names the code reads that it neither defines, imports nor gets from builtins."""
    top = symtable.symtable(source, "<sample>", "exec")
    defined = {
        s.get_name()
        for s in top.get_symbols()
        if s.is_assigned() or s.is_imported() or s.is_namespace()
    }
    missing: set[str] = set()

    def visit(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if not symbol.is_referenced():
                continue
            if str(table.get_type()).lower() == "module" or symbol.is_global():
                free = True
            elif str(table.get_type()).lower() == "class":
                free = not (symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace())
            else:
                free = False
            if free and name not in defined and not hasattr(builtins, name):
                missing.add(name)
        for child in table.get_children():
            visit(child)

    visit(top)
    return missing


SAMPLES = python_samples()


def test_the_pages_quote_python_samples() -> None:
    assert len(SAMPLES) >= 40


@pytest.mark.parametrize(
    ("page", "regions"), SAMPLES, ids=[f"{p}:{'+'.join(r)}" for p, r in SAMPLES]
)
def test_each_python_sample_is_self_contained(page: str, regions: tuple[str, ...]) -> None:
    source = "\n".join(region(reference) for reference in regions) + "\n"
    compile(source, f"{page}: {' + '.join(regions)}", "exec")
    missing = unresolved_names(source)
    assert not missing, f"{page}: {' + '.join(regions)} uses {sorted(missing)} without defining it"
