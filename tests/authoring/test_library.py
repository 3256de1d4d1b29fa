"""`coach validate` finds every kind of content mistake and says exactly where it is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coach.authoring.library import Finding, lint, load_library
from coach.errors import ContentError
from tests.conftest import FIXTURES


@pytest.fixture
def content(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "content")
    return tmp_path / "content"


def findings(content: Path) -> list[Finding]:
    return lint(content / "scenarios", content / "rubrics")[1]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def test_the_fixture_content_is_clean(content: Path) -> None:
    assert findings(content) == []


def test_a_yaml_syntax_error_has_its_line(content: Path) -> None:
    scenario = content / "scenarios" / "tiny.yaml"
    edit(scenario, "title: A tiny scenario", "title: [unclosed")
    (finding,) = findings(content)
    assert finding.code == "yaml"
    assert finding.location.file.endswith("tiny.yaml")
    assert finding.location.line >= line_of(scenario, "title: [unclosed")


def test_schema_errors_point_at_the_field(content: Path) -> None:
    scenario = content / "scenarios" / "tiny.yaml"
    edit(scenario, "minutes: 3", "minutes: three")
    (finding,) = findings(content)
    assert finding.code == "schema"
    assert finding.location.line == line_of(scenario, "minutes: three")
    assert "minutes" in finding.message


def test_unknown_targets_variables_criteria_and_rubrics(content: Path) -> None:
    scenario = content / "scenarios" / "tiny.yaml"
    edit(scenario, "goto: pushback, note", "goto: nowhere, note")
    edit(
        scenario,
        "{when: autonomy met, add: {trust: 1}, goto: gift}",
        "{when: autonomy met, add: {trusty: 1}, goto: gift}",
    )
    edit(scenario, "criterion declines-gift matched", "criterion no-such-thing matched")
    edit(scenario, "dimensions: [autonomy, boundaries]", "dimensions: [autonomy, boundaries, empathy]")
    codes = {f.code for f in findings(content)}
    assert {"unknown-node", "unknown-variable", "unknown-criterion", "unknown-rubric"} <= codes
    goto = next(f for f in findings(content) if f.code == "unknown-node")
    assert goto.location.line == line_of(scenario, "goto: nowhere")


def test_a_missing_fallback_is_an_error(content: Path) -> None:
    scenario = content / "scenarios" / "tiny.yaml"
    edit(scenario, "      - {when: otherwise, goto: mixed}\n", "")
    (finding,) = [f for f in findings(content) if f.code == "missing-fallback"]
    assert "gift" in finding.message


def test_unreachable_nodes_and_loops_without_a_limit(content: Path) -> None:
    scenario = content / "scenarios" / "tiny.yaml"
    edit(scenario, "turn_limit: {turns: 6, ending: out-of-time}\n", "")
    codes = [f.code for f in findings(content)]
    assert "unbounded-loop" in codes
    assert "unreachable" in codes  # out-of-time is only reachable through the turn limit


def test_a_failing_walkthrough_names_both_paths(content: Path) -> None:
    scenario = content / "scenarios" / "tiny.yaml"
    edit(scenario, "path: [ask, gift, good]", "path: [ask, gift, mixed]")
    (finding,) = findings(content)
    assert finding.code == "walkthrough-failed"
    assert "ask > gift > good" in finding.message


def test_a_failing_rubric_example_is_reported(content: Path) -> None:
    rubric = content / "rubrics" / "autonomy.yaml"
    edit(rubric, '{text: "It\'s your call.", verdict: met', '{text: "It\'s your call.", verdict: violated')
    (finding,) = findings(content)
    assert finding.code == "example-failed"
    assert finding.location.line == line_of(rubric, "verdict: violated")


def test_a_bad_pattern_names_its_criterion(content: Path) -> None:
    edit(content / "rubrics" / "autonomy.yaml", '"take it or leave it"', '"take (it or leave it"')
    (finding,) = findings(content)
    assert finding.code == "pattern"
    assert "asks-permission" in finding.message


def test_duplicate_scenario_ids_are_refused(content: Path) -> None:
    shutil.copy(content / "scenarios" / "tiny.yaml", content / "scenarios" / "tiny-copy.yaml")
    assert [f.code for f in findings(content)] == ["duplicate-id"]


def test_load_library_refuses_broken_content_with_every_error(content: Path) -> None:
    edit(content / "scenarios" / "tiny.yaml", "minutes: 3", "minutes: three")
    with pytest.raises(ContentError, match=r"tiny.yaml:\d+:\d+"):
        load_library(content / "scenarios", content / "rubrics")
