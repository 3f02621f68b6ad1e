"""Links in the repository's own Markdown (README, SECURITY) work on the repository host, and
every documentation page they link to is also a page of the site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]]+\]\(([^)\s]+)\)")


@pytest.mark.parametrize("name", ["README.md", "SECURITY.md"])
def test_relative_links_resolve_and_docs_links_are_site_pages(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    links = LINK.findall(text)
    assert links, f"{name} has no links: the pattern is broken"
    for link in links:
        if re.match(r"^[a-z]+:", link):
            continue  # absolute URLs (none is required to exist offline)
        path = link.split("#", 1)[0]
        target = ROOT / path
        assert target.exists(), f"{name}: {link} does not exist in the repository"
        if path.startswith("docs/") and path.endswith(".md"):
            page = path.removeprefix("docs/")
            assert page in nav, f"{name}: {link} is not a page of the site (mkdocs nav)"
