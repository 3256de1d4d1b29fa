"""All rubric patterns run together as one automaton, which must never miss a match."""

import json

import pytest

from coach.authoring.library import ContentLibrary
from coach.domain import automaton
from coach.domain.automaton import PatternAutomaton
from coach.domain.patterns import ClauseEnd, Node, NotFollowedBy, Pattern, compile_pattern
from coach.domain.text import analyse
from tests.conftest import ROOT

CLASSES = {"verb": frozenset({"stop", "go", "call"})}


def reported(sources: list[str], text: str) -> set[str]:
    patterns = [compile_pattern(s, CLASSES) for s in sources]
    return {sources[i] for i in PatternAutomaton(patterns).matching(analyse(text))}


def has_lookahead(nodes: tuple[Node, ...]) -> bool:
    return any(
        isinstance(node, NotFollowedBy | ClauseEnd)
        or any(has_lookahead(option) for option in getattr(node, "options", ()))
        for node in nodes
    )


def test_reports_exactly_the_patterns_that_match() -> None:
    sources = ["you decide", "=decide", "tell ..2 what to do", "^ [just] @verb", "(never|not) tell you"]
    assert reported(sources, "You decided. I would never tell you that") == {
        "you decide",
        "(never|not) tell you",
    }
    assert reported(sources, "Just call her and tell them exactly what to do") == {
        "^ [just] @verb",
        "tell ..2 what to do",
    }


def test_gaps_anchors_and_sentences_bound_a_match() -> None:
    assert reported(["tell ..1 what to do"], "tell you exactly what to do") == set()
    assert reported(["you ... go"], "You can. Go now") == set()
    assert reported(["^ @verb"], "I think you should stop") == set()
    assert reported(["^ @verb"], "Okay, so stop") == {"^ @verb"}
    assert reported(["* not"], "not") == set()


def test_look_aheads_are_left_to_the_regex_so_a_report_may_be_a_false_alarm() -> None:
    pattern = compile_pattern("you decide ~(now)")
    assert PatternAutomaton([pattern]).matching(analyse("you decide now")) == {0}
    assert list(pattern.find(analyse("you decide now"))) == []


@pytest.fixture(scope="module")
def replies() -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return texts


def test_never_misses_a_bundled_pattern_on_any_labelled_reply(
    bundled_library: ContentLibrary, replies: list[str]
) -> None:
    evaluator = bundled_library.evaluator
    patterns: list[Pattern] = [p for c in evaluator.criteria for p in c.patterns]
    machine = PatternAutomaton(patterns)
    checked = 0
    for text in replies:
        analysis = evaluator.analyse(text)
        found = machine.matching(analysis)
        for index, pattern in enumerate(patterns):
            matches = any(True for _ in pattern.find(analysis))
            if matches:
                assert index in found, (pattern.source, text)
                checked += 1
            elif not has_lookahead(pattern.nodes):
                # Without look-aheads the automaton is exact, not just safe.
                assert index not in found, (pattern.source, text)
    assert checked > 1000


def test_a_full_cache_starts_afresh_and_answers_stay_the_same(
    monkeypatch: pytest.MonkeyPatch, bundled_library: ContentLibrary, replies: list[str]
) -> None:
    evaluator = bundled_library.evaluator
    patterns = [p for c in evaluator.criteria for p in c.patterns]
    roomy = PatternAutomaton(patterns)
    cramped = PatternAutomaton(patterns)
    monkeypatch.setattr(automaton, "MAX_STATES", 20)
    for text in replies[:200]:
        analysis = evaluator.analyse(text)
        assert cramped.matching(analysis) == roomy.matching(analysis)
    assert len(cramped._cache.states) < 200
