"""Every code block of README.md and docs/*.md runs (or says why not); see tests/support/snippets.py.

One test per document; a failure lists each failing block as ``docs/file.md:LINE`` with
what it printed against what the document says. To run one document:
``python3 -m pytest tests/test_doc_snippets.py -k batch``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .support.snippets import ROOT, Sandbox, contains, dedent, run_document

DOCUMENTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
# README.md is the lead engineer's to edit: while a whole proposed README waits in
# changes/15-readme.md, that proposal is what the README test runs.
README_PROPOSAL = ROOT / "changes" / "15-readme.md"  # a README proposal in flight, when there is one


def _text(document: str) -> str:
    if document == "README.md" and README_PROPOSAL.is_file():
        proposal = README_PROPOSAL.read_text(encoding="utf-8")
        if proposal.startswith("# tierrules\n"):
            return proposal
    return (ROOT / document).read_text(encoding="utf-8")


# Blocks known to be stale in documents being rewritten by someone else right now. The test
# fails if one of them starts to pass (remove its entry then) or another block fails.
KNOWN_STALE: dict[str, str] = {
    "docs/deadlines.md:9": "a fragment of an obligation, not JSON; deadlines.md is being rewritten",
}


@pytest.mark.parametrize("document", DOCUMENTS)
def test_code_blocks_run(document: str, tmp_path: Path) -> None:
    failures = run_document(ROOT / document, Sandbox(tmp_path / "sandbox"), _text(document))
    known = {where for where in KNOWN_STALE if where.startswith(f"{document}:")}
    failing = {failure.split(": ", 1)[0] for failure in failures}
    assert not known - failing, f"fixed, remove from KNOWN_STALE: {sorted(known - failing)}"
    unexpected = [failure for failure in failures if failure.split(": ", 1)[0] not in known]
    assert not unexpected, "\n\n".join(unexpected)


# --- the runner itself ----------------------------------------------------------------------------


def test_runner_names_the_file_and_line_of_a_wrong_output(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    text = dedent(
        """
        Validate the default:

        ```console
        $ tierrules validate rulesets/default
        ok: rulesets/default: ruleset default 1999.1.0, ...
        ```
        """
    )
    [failure] = run_document(doc, Sandbox(tmp_path / "box"), text)
    assert failure.startswith(f"{doc}:3: `$ tierrules validate rulesets/default` printed something else")
    assert "+ok: rulesets/default: ruleset default 2026.11.0" in failure


def test_runner_runs_python_as_a_script_and_checks_markers(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    text = dedent(
        """
        ```python
        import tierrules
        assert tierrules.load_ruleset().name == "nope", "wrong name"
        ```

        ```text
        an unmarked text block
        ```

        <!-- not run: a picture -->
        ```text
        a marked one
        ```

        ```sh
        # not run:
        rm -rf /
        ```
        """
    )
    failures = run_document(doc, Sandbox(tmp_path / "box"), text)
    assert [f.split(":", 2)[1] for f in failures] == ["1", "6", "15"]
    assert "AssertionError: wrong name" in failures[0]
    assert "cannot run: mark it" in failures[1]
    assert "without a reason" in failures[2]


def test_runner_checks_json_against_a_command(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    now = "--now 2026-11-24T18:30:00+08:00"
    text = dedent(
        f"""
        <!-- subset of: tierrules evaluate examples/complaint.jsonl {now} -->
        ```json
        {{"obligations": [{{"rule": "E1.escalate", "status": "breached"}}]}}
        ```
        <!-- subset of: tierrules evaluate examples/complaint.jsonl {now} -->
        ```json
        {{"obligations": [{{"rule": "E1.escalate", "status": "met"}}]}}
        ```
        """
    )
    [failure] = run_document(doc, Sandbox(tmp_path / "box"), text)
    assert failure.startswith(f"{doc}:2: the json block is not part of what")


def test_tmp_paths_stay_in_the_sandbox(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box")
    proc = box.shell("cp -r rulesets/default /tmp/new && ls /tmp/new/ruleset.yaml")
    assert proc.returncode == 0
    assert (box.tmp / "new" / "ruleset.yaml").is_file()
    assert box.public(proc.stdout).strip() == "/tmp/new/ruleset.yaml"


def test_contains_matches_like_policy_tests() -> None:
    actual = {"a": [{"x": 1, "y": 2}, {"x": 3}], "b": True}
    assert contains(actual, {"a": [{"x": 1}, {"x": 3}]})
    assert not contains(actual, {"a": [{"x": 3}, {"x": 1}]})  # in order
    assert not contains(actual, {"b": 1})  # True is not 1
