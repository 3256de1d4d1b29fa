"""Authoring tools: statistics, JSON Schema, scenario pictures."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from coach.authoring.graphs import dot, mermaid, svg
from coach.authoring.library import ContentLibrary
from coach.authoring.schema import render_schemas
from coach.authoring.stats import scenario_stats
from coach.domain.engine import Play
from tests.conftest import ROOT


def test_stats_report_depth_best_scores_and_coverage(tiny_library: ContentLibrary) -> None:
    stats = scenario_stats(tiny_library.play("tiny"), tiny_library)
    assert (stats.nodes, stats.endings, stats.walkthroughs) == (8, 4, 4)
    assert stats.decision_points == 3  # ask > pushback > gift > ending
    assert stats.best_scores == {"autonomy": 1.0, "boundaries": 1.0}
    assert (stats.node_coverage, stats.ending_coverage) == (1.0, 1.0)


def test_coverage_drops_when_a_walkthrough_goes(tiny_library: ContentLibrary) -> None:
    play = tiny_library.play("tiny")
    fewer = play.scenario.model_copy(update={"walkthroughs": play.scenario.walkthroughs[:1]})
    stats = scenario_stats(Play(fewer, tiny_library.evaluator), tiny_library)
    assert stats.ending_coverage == 0.25  # only "good" is reached
    assert stats.node_coverage == 3 / 8


def test_the_committed_schemas_match_the_content_model() -> None:
    for name, text in render_schemas().items():
        committed = ROOT / "schemas" / name
        assert committed.read_text() == text, f"run `coach schema` to refresh {name}"
    scenario_schema = json.loads(render_schemas()["scenario.schema.json"])
    assert scenario_schema["additionalProperties"] is False
    assert "walkthroughs" in scenario_schema["properties"]


def test_bundled_files_point_editors_at_the_schemas() -> None:
    for folder, schema in [("scenarios", "scenario"), ("rubrics", "rubric")]:
        for path in sorted((ROOT / folder).glob("*.yaml")):
            first = path.read_text().splitlines()[0]
            assert first == f"# yaml-language-server: $schema=../schemas/{schema}.schema.json", path.name


def test_pictures_mark_endings_fallbacks_and_the_path(tiny_library: ContentLibrary) -> None:
    scenario = tiny_library.play("tiny").scenario
    path = ("ask", "gift", "good")
    chart = mermaid(scenario, path)
    assert chart.startswith("flowchart TD")
    assert "-.->" in chart  # fallbacks are dashed
    assert "classDef good" in chart
    assert "linkStyle" in chart  # the path is highlighted
    graph = dot(scenario, path)
    assert '"ask" -> "gift"' in graph
    assert "style=dashed" in graph
    drawing = svg(scenario, path)
    root = ET.fromstring(drawing)
    assert root.tag.endswith("svg")
    assert drawing.count("<rect") == len(scenario.nodes)
    assert "stroke-dasharray" in drawing
    assert "Straight and kind (good)" in drawing
