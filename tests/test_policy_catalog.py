"""Every clause a rule cites resolves inside the repository: docs/policy.md has its anchor.

The bundled rulesets' ``source:`` ids, the ids the editor schema offers (what a ruleset
written against the default catalog can cite) and the catalog's own headings are the same
set; the anchors are the heading ids GitHub and the docs site both give. And no document
or code comment points outside the repository (the policy sources are not in it).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pymdownx.slugs import slugify

from tierrules.ruleset.schema import CLAUSES, ruleset_schema

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "docs" / "policy.md"
_HEADING = re.compile(r"^### (?P<id>[TEQA][0-9]+) — (?P<title>.+)$", re.MULTILINE)
_slug = slugify(case="lower")  # the docs site's toc slugify (mkdocs.yml), GitHub's ids


def catalog() -> dict[str, str]:
    """Clause id -> title, from docs/policy.md's headings."""
    return {m.group("id"): m.group("title") for m in _HEADING.finditer(POLICY.read_text(encoding="utf-8"))}


def anchors() -> set[str]:
    text = POLICY.read_text(encoding="utf-8")
    return {_slug(m.group(1), "-") for m in re.finditer(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def anchor(clause: str) -> str:
    return _slug(f"{clause} — {catalog()[clause]}", "-")


def sources(node: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source" and isinstance(value, str):
                yield f"{path}.source", value
            else:
                yield from sources(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from sources(value, f"{path}[{i}]")


RULESET_FILES = sorted(p for p in (ROOT / "rulesets").rglob("*.yaml") if not p.name.endswith(".test.yaml"))


def test_the_schema_offers_exactly_the_catalog() -> None:
    assert catalog() == CLAUSES  # ids and titles: the schema's table is docs/policy.md's


@pytest.mark.parametrize("path", RULESET_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_source_in_the_bundled_rulesets_has_an_anchor(path: Path) -> None:
    cited = list(sources(yaml.safe_load(path.read_text(encoding="utf-8"))))
    missing = [(where, clause) for where, clause in cited if clause not in catalog()]
    assert missing == []
    assert {anchor(clause) for _, clause in cited} <= anchors()


def test_the_bundled_rulesets_cite_clauses() -> None:
    cited = {c for p in RULESET_FILES for _, c in sources(yaml.safe_load(p.read_text(encoding="utf-8")))}
    assert {"E1", "E2", "T6", "Q5"} <= cited


def test_every_clause_a_ruleset_can_cite_has_an_anchor() -> None:
    """Whatever a ruleset validated by the schema cites in any section resolves."""
    offered: set[str] = set()
    for node in _walk(ruleset_schema("document")):
        source = node.get("properties", {}).get("source")
        if isinstance(source, dict) and "enum" in source:
            offered |= set(source["enum"])
    assert offered == set(CLAUSES)
    assert {anchor(clause) for clause in offered} <= anchors()


def test_the_catalogs_contents_links_resolve() -> None:
    text = POLICY.read_text(encoding="utf-8")
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert len(links) >= len(CLAUSES)
    assert set(links) <= anchors()


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


# --- nothing points outside the repository -----------------------------------------------------


def tracked_text_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    suffixes = {".md", ".py", ".yaml", ".yml", ".toml", ".sh", ".txt", ".jsonl", ""}
    return [
        ROOT / name for name in out.splitlines() if Path(name).suffix in suffixes and (ROOT / name).is_file()
    ]


def test_no_file_points_outside_the_repository() -> None:
    offending = []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            # CHANGELOG.md is history: it may name the file the catalog replaced.
            old_catalog = "POLICY.md" in line and path.name != "CHANGELOG.md"
            if "../shared" in line or "shared/POLICY" in line or old_catalog:
                offending.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    offending = [o for o in offending if not o.startswith("tests/test_policy_catalog.py")]
    assert offending == []


def test_markdown_links_stay_inside_the_repository() -> None:
    broken = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            resolved = (path.parent / target.split("#", 1)[0]).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == []
