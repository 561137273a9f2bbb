"""Every relative link in README.md and docs/ resolves inside the repository (a clone
has no ../shared: the contract lives in docs/contract.md)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def links(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue            # a URL or an anchor on the same page
        yield target.split("#")[0]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_relative_links_resolve_inside_the_repository(page):
    found = list(links(page))
    broken = []
    for target in found:
        path = (page.parent / target).resolve()
        if not path.exists() or ROOT not in path.parents and path != ROOT:
            broken.append(target)
    assert not broken, f"{page.name}: links that do not resolve in a clone: {broken}"


def test_the_link_check_finds_links():
    assert len(list(links(ROOT / "README.md"))) >= 5
    assert "docs/contract.md" in list(links(ROOT / "README.md"))
