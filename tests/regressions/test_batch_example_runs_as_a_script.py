"""docs/batch.md's Python example runs as a script, with Dask's local cluster.

Found by a new user (issue 15, "Docs drift"): pasted into a file and run, the example
started a LocalCluster at import time with no ``if __name__ == "__main__":`` guard, so
every worker process Dask started re-ran the file and the script failed.
"""

from __future__ import annotations

from pathlib import Path

from ..support.snippets import ROOT, Sandbox, blocks, run_document


def test_the_batch_example_is_guarded_and_runs(tmp_path: Path) -> None:
    doc = ROOT / "docs" / "batch.md"
    [example] = [b for b in blocks(doc) if b.lang == "python"]
    assert 'if __name__ == "__main__":' in example.text
    # The case log block above it, then the script itself, in a fresh sandbox.
    needed = "\n".join(
        f"<!-- file: {b.directive[1]} -->\n```{b.lang}\n{b.text}```"
        for b in blocks(doc)
        if b.directive and b.directive[0] == "file"
    )
    text = f"{needed}\n\n```python\n{example.text}```\n"
    assert run_document(doc, Sandbox(tmp_path / "box"), text) == []
