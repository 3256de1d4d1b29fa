"""Load the content library (rubrics and scenarios), check it, and hand out compiled plays.

This is the only code that reads content files. Loading collects every problem it finds
as a :class:`Finding` with file:line:column, so an author sees all mistakes at once;
:func:`load_library` refuses to return a library while any error remains.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from coach.authoring.yamlsource import YamlSource, load_yaml
from coach.domain.conditions import ConditionSyntaxError, parse_condition
from coach.domain.engine import Play, content_hash
from coach.domain.evaluator import CriterionError, Evaluator
from coach.domain.graph import can_finish, has_cycle, reachable
from coach.domain.rubric import Criterion, Rubric
from coach.domain.scenario import Scenario
from coach.errors import ContentError, ScenarioNotFound, SourceLocation


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    location: SourceLocation
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message} [{self.code}]"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "code": self.code,
        }


@dataclass
class ContentLibrary:
    rubrics: dict[str, Rubric]
    evaluator: Evaluator
    plays: dict[str, Play]
    files: dict[str, str] = field(default_factory=dict)
    _pinned: dict[str, Play] = field(default_factory=dict)

    @property
    def criteria(self) -> dict[str, Criterion]:
        return {c.id: c.criterion for c in self.evaluator.criteria}

    def play(self, scenario_id: str) -> Play:
        try:
            return self.plays[scenario_id]
        except KeyError:
            raise ScenarioNotFound(f"there is no scenario {scenario_id!r}") from None

    def pinned(self, content_hash: str, snapshot: Mapping[str, Any]) -> Play:
        """The play for a scenario version a session started on, even if the file changed since."""
        for play in self.plays.values():
            if play.hash == content_hash:
                return play
        if content_hash not in self._pinned:
            scenario = Scenario.model_validate(snapshot)
            self._pinned[content_hash] = Play(scenario, self.evaluator, hash=content_hash)
        return self._pinned[content_hash]


def criteria_of(play: Play, library: ContentLibrary) -> dict[str, Criterion]:
    """Every criterion a turn in this play can match: the rubrics' and the nodes' own."""
    lookup = library.criteria
    for node in play.scenario.nodes.values():
        for criterion in node.criteria:
            lookup[criterion.id] = criterion
    return lookup


def snapshot(scenario: Scenario) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(scenario.model_dump_json())
    return data


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def error(self, location: SourceLocation, message: str, code: str) -> None:
        self.findings.append(Finding(Severity.ERROR, location, message, code))

    def warning(self, location: SourceLocation, message: str, code: str) -> None:
        self.findings.append(Finding(Severity.WARNING, location, message, code))

    def content_error(self, exc: ContentError, code: str) -> None:
        self.error(exc.location or SourceLocation("?"), exc.detail, code)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read(path: Path, collector: _Collector) -> YamlSource | None:
    try:
        source = load_yaml(path, _display(path))
    except ContentError as exc:
        collector.content_error(exc, "yaml")
        return None
    except OSError as exc:
        collector.error(SourceLocation(_display(path)), f"cannot read: {exc.strerror}", "io")
        return None
    if not isinstance(source.data, dict):
        collector.error(source.locate(()), "the file must hold a mapping of fields", "schema")
        return None
    return source


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in {".yaml", ".yml"})


def load_rubrics(folder: Path, collector: _Collector) -> tuple[list[Rubric], dict[str, YamlSource]]:
    rubrics: list[Rubric] = []
    sources: dict[str, YamlSource] = {}
    if not folder.is_dir():
        collector.error(SourceLocation(_display(folder)), "rubrics folder not found", "io")
        return rubrics, sources
    for path in _files(folder):
        source = _read(path, collector)
        if source is None:
            continue
        try:
            rubric = Rubric.model_validate(source.data)
        except ValidationError as exc:
            for error in source.errors_from(exc):
                collector.content_error(error, "schema")
            continue
        if rubric.id in sources:
            collector.error(source.locate(("id",)), f"duplicate rubric id {rubric.id!r}", "duplicate-id")
            continue
        if path.stem != rubric.id:
            collector.warning(
                source.locate(("id",)), f"rubric {rubric.id!r} lives in {path.name}", "file-name"
            )
        rubrics.append(rubric)
        sources[rubric.id] = source
    return rubrics, sources


def _criterion_path(rubric: Rubric, criterion_id: str) -> tuple[str | int, ...]:
    for index, criterion in enumerate(rubric.criteria):
        if criterion.id == criterion_id:
            return ("criteria", index)
    return ()


def _compile_rubrics(
    rubrics: list[Rubric], sources: Mapping[str, YamlSource], collector: _Collector
) -> Evaluator | None:
    owner: dict[str, str] = {}
    ok = True
    for rubric in rubrics:
        for index, criterion in enumerate(rubric.criteria):
            if criterion.id in owner:
                collector.error(
                    sources[rubric.id].locate(("criteria", index, "id")),
                    f"criterion id {criterion.id!r} is also used in rubric {owner[criterion.id]!r}",
                    "duplicate-id",
                )
                ok = False
            owner[criterion.id] = rubric.id
    for rubric in rubrics:
        for index, criterion in enumerate(rubric.criteria):
            refs = (criterion.unless.criteria if criterion.unless else ()) + (
                criterion.requires.criteria if criterion.requires else ()
            )
            for ref in refs:
                if ref not in owner:
                    collector.error(
                        sources[rubric.id].locate(("criteria", index, "unless", "criteria")),
                        f"unknown criterion {ref!r} in unless/requires",
                        "unknown-criterion",
                    )
                    ok = False
    if not ok:
        return None
    try:
        return Evaluator(rubrics)
    except CriterionError as exc:
        for rubric in rubrics:
            path = _criterion_path(rubric, exc.criterion)
            if path:
                collector.error(sources[rubric.id].locate((*path, "patterns")), str(exc), "pattern")
        return None


def check_rubric_examples(
    evaluator: Evaluator,
    rubrics: Iterable[Rubric],
    sources: Mapping[str, YamlSource],
    collector: _Collector,
) -> None:
    for rubric in rubrics:
        for index, example in enumerate(rubric.examples):
            where = sources[rubric.id].locate(("examples", index))
            result = evaluator.evaluate(example.text, dimensions=[rubric.id])
            got = result.dimensions[rubric.id].verdict
            matched = {m.criterion for m in result.matches}
            problems = []
            if got is not example.verdict:
                problems.append(f"verdict is {got.value}, expected {example.verdict.value}")
            missing = [c for c in example.criteria if c not in matched]
            if missing:
                problems.append(f"expected criteria not matched: {', '.join(missing)}")
            unwanted = [c for c in example.not_criteria if c in matched]
            if unwanted:
                problems.append(f"criteria matched that must not: {', '.join(unwanted)}")
            if problems:
                collector.error(where, f"example {example.text!r}: " + "; ".join(problems), "example-failed")


def load_scenario(
    path: Path,
    evaluator: Evaluator,
    rubrics: Mapping[str, Rubric],
    collector: _Collector,
    *,
    run_walkthroughs: bool = True,
) -> tuple[Play, YamlSource] | None:
    source = _read(path, collector)
    if source is None:
        return None
    try:
        scenario = Scenario.model_validate(source.data)
    except ValidationError as exc:
        for error in source.errors_from(exc):
            collector.content_error(error, "schema")
        return None
    before = len(collector.findings)
    _check_references(scenario, source, rubrics, evaluator, collector)
    if any(f.severity is Severity.ERROR for f in collector.findings[before:]):
        return None
    try:
        play = Play(scenario, evaluator)
    except (CriterionError, ConditionSyntaxError) as exc:
        collector.error(source.locate(("nodes",)), str(exc), "compile")
        return None
    _check_graph(scenario, source, collector)
    if run_walkthroughs:
        _check_walkthroughs(play, source, collector)
    return play, source


def _check_references(
    scenario: Scenario,
    source: YamlSource,
    rubrics: Mapping[str, Rubric],
    evaluator: Evaluator,
    collector: _Collector,
) -> None:
    for index, dimension in enumerate(scenario.dimensions):
        if dimension not in rubrics:
            collector.error(
                source.locate(("dimensions", index)),
                f"unknown rubric {dimension!r}",
                "unknown-rubric",
            )
    if scenario.start not in scenario.nodes:
        collector.error(
            source.locate(("start",)),
            f"start node {scenario.start!r} does not exist",
            "unknown-node",
        )
    if scenario.turn_limit and scenario.turn_limit.ending not in scenario.endings:
        collector.error(
            source.locate(("turn_limit", "ending")),
            f"turn_limit ending {scenario.turn_limit.ending!r} is not an ending node",
            "unknown-node",
        )
    known_criteria = set(evaluator.criterion_index)
    for node in scenario.nodes.values():
        known_criteria |= {c.id for c in node.criteria}
    for node_id, node in scenario.nodes.items():
        base = ("nodes", node_id)
        for index, dimension in enumerate(node.focus):
            if dimension not in scenario.dimensions:
                collector.error(
                    source.locate((*base, "focus", index)),
                    f"focus {dimension!r} is not one of the scenario's dimensions",
                    "unknown-rubric",
                )
        for dimension in node.tips:
            if dimension not in scenario.dimensions:
                collector.error(
                    source.locate((*base, "tips", dimension)),
                    f"tip for unknown dimension {dimension!r}",
                    "unknown-rubric",
                )
        for index, criterion in enumerate(node.criteria):
            if criterion.dimension not in scenario.dimensions:
                collector.error(
                    source.locate((*base, "criteria", index, "dimension")),
                    f"criterion dimension {criterion.dimension!r} is not scored in this scenario",
                    "unknown-rubric",
                )
            if criterion.id in evaluator.criterion_index:
                collector.error(
                    source.locate((*base, "criteria", index, "id")),
                    f"criterion id {criterion.id!r} is already a rubric criterion",
                    "duplicate-id",
                )
        for index, branch in enumerate(node.branches):
            where = (*base, "branches", index)
            if branch.goto not in scenario.nodes:
                collector.error(
                    source.locate((*where, "goto")),
                    f"goto unknown node {branch.goto!r}",
                    "unknown-node",
                )
            for name in (*branch.set, *branch.add):
                if name not in scenario.variables:
                    collector.error(
                        source.locate((*where,)), f"unknown variable {name!r}", "unknown-variable"
                    )
            try:
                condition = parse_condition(branch.when)
            except ConditionSyntaxError as exc:
                collector.error(source.locate((*where, "when")), str(exc), "condition")
                continue
            for dimension in sorted(condition.dimensions - set(scenario.dimensions)):
                collector.error(
                    source.locate((*where, "when")),
                    f"unknown dimension {dimension!r} in condition",
                    "unknown-rubric",
                )
            for criterion_id in sorted(condition.criteria - known_criteria):
                collector.error(
                    source.locate((*where, "when")),
                    f"unknown criterion {criterion_id!r} in condition",
                    "unknown-criterion",
                )
            for variable in sorted(condition.variables - set(scenario.variables)):
                collector.error(
                    source.locate((*where, "when")),
                    f"unknown variable {variable!r} in condition",
                    "unknown-variable",
                )
        if node.branches and parse_fallback(node.branches[-1].when) is False:
            collector.error(
                source.locate((*base, "branches", len(node.branches) - 1, "when")),
                f"node {node_id!r} needs a fallback: its last branch must be 'when: otherwise'",
                "missing-fallback",
            )
        for index, branch in enumerate(node.branches[:-1]):
            if parse_fallback(branch.when):
                collector.warning(
                    source.locate((*base, "branches", index, "when")),
                    "branches after a fallback can never be taken",
                    "dead-branch",
                )


def parse_fallback(when: str) -> bool:
    try:
        return parse_condition(when).is_fallback
    except ConditionSyntaxError:
        return False


def _check_graph(scenario: Scenario, source: YamlSource, collector: _Collector) -> None:
    live = reachable(scenario)
    for node_id in scenario.nodes:
        if node_id not in live:
            collector.error(
                source.locate(("nodes", node_id)),
                f"node {node_id!r} cannot be reached from the start",
                "unreachable",
            )
    finishing = can_finish(scenario)
    for node_id in scenario.nodes:
        if node_id in live and node_id not in finishing:
            collector.error(
                source.locate(("nodes", node_id)),
                f"from node {node_id!r} no path leads to an ending (a dead end or a cycle with no exit)",
                "no-exit",
            )
    if has_cycle(scenario) and scenario.turn_limit is None:
        collector.error(
            source.locate(("nodes",)),
            "the scenario can loop: add turn_limit with an ending so no session goes on forever",
            "unbounded-loop",
        )
    if not scenario.endings:
        collector.error(source.locate(("nodes",)), "the scenario has no ending node", "no-ending")


def _check_walkthroughs(play: Play, source: YamlSource, collector: _Collector) -> None:
    for index, walkthrough in enumerate(play.scenario.walkthroughs):
        state, _ = play.walk(walkthrough.replies)
        if state.path != walkthrough.path:
            collector.error(
                source.locate(("walkthroughs", index)),
                f"walkthrough {walkthrough.name!r} took {' > '.join(state.path)}, "
                f"expected {' > '.join(walkthrough.path)}",
                "walkthrough-failed",
            )


def lint(
    scenarios_dir: Path, rubrics_dir: Path, *, run_tests: bool = True
) -> tuple[ContentLibrary | None, list[Finding]]:
    """Load everything, run every check, and return the library (if usable) and the findings.

    ``run_tests=False`` skips playing walkthroughs and rubric examples: they are the
    content's tests (run by `coach validate` and CI), not needed to serve it, and with
    many scenarios they dominate start-up.
    """
    collector = _Collector()
    rubric_list, rubric_sources = load_rubrics(rubrics_dir, collector)
    evaluator = _compile_rubrics(rubric_list, rubric_sources, collector)
    if evaluator is None:
        return None, collector.findings
    if run_tests:
        check_rubric_examples(evaluator, rubric_list, rubric_sources, collector)
    rubrics = {r.id: r for r in rubric_list}
    plays: dict[str, Play] = {}
    files: dict[str, str] = {}
    if not scenarios_dir.is_dir():
        collector.error(SourceLocation(_display(scenarios_dir)), "scenarios folder not found", "io")
    for path in _files(scenarios_dir) if scenarios_dir.is_dir() else []:
        loaded = load_scenario(path, evaluator, rubrics, collector, run_walkthroughs=run_tests)
        if loaded is None:
            continue
        play, source = loaded
        scenario_id = play.scenario.id
        if scenario_id in plays:
            collector.error(
                source.locate(("id",)),
                f"scenario id {scenario_id!r} is also used in {files[scenario_id]}",
                "duplicate-id",
            )
            continue
        plays[scenario_id] = play
        files[scenario_id] = source.file
    library = ContentLibrary(rubrics=rubrics, evaluator=evaluator, plays=plays, files=files)
    return library, collector.findings


def load_rubric_library(rubrics_dir: Path) -> ContentLibrary:
    """Only the rubrics (no scenarios): enough to evaluate replies, and unaffected by a broken scenario."""
    collector = _Collector()
    rubric_list, sources = load_rubrics(rubrics_dir, collector)
    evaluator = _compile_rubrics(rubric_list, sources, collector)
    errors = [f for f in collector.findings if f.severity is Severity.ERROR]
    if errors or evaluator is None:
        detail = "content has errors:\n" + "\n".join(str(f) for f in errors)
        raise ContentError(detail, errors[0].location if errors else None)
    return ContentLibrary(rubrics={r.id: r for r in rubric_list}, evaluator=evaluator, plays={})


def load_library(scenarios_dir: Path, rubrics_dir: Path, *, run_tests: bool = True) -> ContentLibrary:
    """The library for serving; raises :class:`ContentError` listing every error found."""
    library, findings = lint(scenarios_dir, rubrics_dir, run_tests=run_tests)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors or library is None:
        first = errors[0] if errors else None
        detail = "content has errors:\n" + "\n".join(str(f) for f in errors)
        raise ContentError(detail, first.location if first else None)
    return library


__all__ = [
    "ContentLibrary",
    "Finding",
    "Severity",
    "content_hash",
    "lint",
    "load_library",
    "snapshot",
]
