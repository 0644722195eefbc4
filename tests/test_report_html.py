"""The HTML report in a real browser: headless Chromium loads the file and draws every chart."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

import tierrules
from tierrules.reporting import demo
from tierrules.reporting.html import render_html, write_html

from .support.servers import Chromium, nonblank_fraction

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> list[Node]:
        out = [self]
        for child in self.children:
            out += child.walk()
        return out


class _Tree(HTMLParser):
    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "col", "source", "area", "base", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return


def charts(dom: str) -> dict[str, Node]:
    tree = _Tree()
    tree.feed(dom)
    return {n.attrs["id"]: n for n in tree.root.walk() if "plotly-graph-div" in n.classes}


def drawn_paths(chart: Node, trace_class: str, path_class: str | None = None) -> list[str]:
    """The ``d`` of the paths inside the chart's traces of a kind (scatter, bars, boxes)."""
    out = []
    for node in chart.walk():
        if {"trace", trace_class} <= node.classes:
            out += [
                p.attrs.get("d", "")
                for p in node.walk()
                if p.tag == "path" and (path_class is None or path_class in p.classes)
            ]
    return [d for d in out if d.startswith("M")]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[tierrules.Report, Path]:
    where = tmp_path_factory.mktemp("html")
    log = where / "cases.jsonl"
    demo.write(log, seed=9, scale=0.15)
    report = tierrules.report(log, by=["team"], workers=0)
    path = where / "report.html"
    write_html(report, str(path))
    return report, path


def test_chromium_draws_every_chart(chromium: Chromium, page: tuple[tierrules.Report, Path]) -> None:
    report, path = page
    rendered = chromium.render(path, width=1280, height=900)
    found = charts(rendered.dom)
    targets = list(dict.fromkeys(t.target for t in report.targets))
    expected = {f"chart-time-{i}" for i in range(len(targets))} | {
        f"chart-groups-{i}" for i in range(len(targets))
    }
    assert set(found) == expected | {"chart-breaches", "chart-scores"}
    for name, chart in found.items():
        assert any("main-svg" in n.classes for n in chart.walk()), f"{name}: plotly drew nothing"
    for i in range(len(targets)):
        lines = drawn_paths(found[f"chart-time-{i}"], "scatter", "js-line")
        assert lines and all("L" in d for d in lines), f"chart-time-{i}: no line drawn"
        assert len(drawn_paths(found[f"chart-groups-{i}"], "bars")) >= 2
    heat = [n for n in found["chart-breaches"].walk() if "hm" in n.classes]
    assert heat and any(
        c.tag == "image" and c.attrs.get("href", c.attrs.get("xlink:href", "")).startswith("data:image")
        for h in heat
        for c in h.walk()
    )
    boxes = drawn_paths(found["chart-scores"], "boxes", "box")
    assert len(boxes) == len(report.scores)  # one box per agent
    assert nonblank_fraction(rendered.screenshot) > 0.5  # mostly drawn, not a blank page


def test_the_page_is_self_contained_and_deterministic(page: tuple[tierrules.Report, Path]) -> None:
    report, path = page
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=", text)
    assert "cdn.plot.ly/plotly" not in text.split("</script>", 1)[1]  # no loader outside the inlined library
    assert text == render_html(report)
    assert text.count("Plotly.newPlot(") == len(charts_in(text))


def charts_in(text: str) -> list[str]:
    return re.findall(r'<div id="(chart-[a-z]+(?:-\d+)?)" class="plotly-graph-div"', text)


def test_the_docs_screenshot_is_a_rendered_report() -> None:
    png = ROOT / "docs" / "report-screenshot.png"
    assert png.stat().st_size > 20_000
    assert nonblank_fraction(png) > 0.5
    assert "report-screenshot.png" in (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
