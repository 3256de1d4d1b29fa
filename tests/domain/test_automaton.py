"""All rubric patterns run together as one automaton, which must never miss a match."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from coach.authoring.library import ContentLibrary
from coach.domain import automaton
from coach.domain.automaton import PatternAutomaton
from coach.domain.patterns import Pattern, compile_pattern
from coach.domain.text import analyse
from tests.conftest import ROOT

CLASSES = {"verb": frozenset({"stop", "go", "call"})}


def reported(sources: list[str], text: str) -> set[str]:
    patterns = [compile_pattern(s, CLASSES) for s in sources]
    return {sources[i] for i in PatternAutomaton(patterns).matching(analyse(text))}


def test_reports_the_patterns_that_match_and_not_those_whose_words_are_absent() -> None:
    sources = ["you decide", "=decide", "tell ..2 what to do", "^ [just] @verb", "(never|not) tell you"]
    assert reported(sources, "You decided. I would never tell you that") == {
        "you decide",
        "(never|not) tell you",
    }
    assert reported(sources, "Just call her and tell them exactly what to do") == {
        "^ [just] @verb",
        "tell ..2 what to do",
    }
    assert reported(sources, "That sounds like a long week") == set()


def test_anchors_and_sentences_bound_a_match() -> None:
    assert reported(["you go"], "You can. Go now") == set()
    assert reported(["^ @verb"], "I think you should stop") == set()
    assert reported(["^ @verb"], "Okay, so stop") == {"^ @verb"}


def test_a_stretch_that_can_match_nothing_is_never_what_the_automaton_looks_for() -> None:
    # "(really|$)" can match no word at all; looking for it alone would miss every match
    # that skips it, so the automaton must look for the pattern another way.
    cases = [("(really|$) ... *", "hello there"), ("(really|$) ..2 (you|i|we)", "I think we could")]
    for source, text in cases:
        assert list(compile_pattern(source).find(analyse(text)))
        assert reported([source], text) == {source}


def test_a_choice_with_an_option_of_optional_words_requires_no_word() -> None:
    assert [m.first for m in compile_pattern("(really|[truly]) ..2 go").find(analyse("go"))] == [0]


def test_a_pattern_is_looked_for_by_its_rarest_stretch_between_gaps() -> None:
    # "you" is everywhere; the stretch after the gap is what makes this pattern rare, so a
    # reply with "you" alone wakes nothing, and the regex still checks the gap's bound.
    pattern = compile_pattern("you ..2 (quit|stop) drinking")
    machine = PatternAutomaton([pattern], [analyse("you know what you want"), analyse("I hear you")])
    assert machine.matching(analyse("you really want to")) == {}
    assert machine.matching(analyse("you should really just quit drinking")) == {0: [5]}
    assert list(pattern.find(analyse("you should really just quit drinking"))) == []


def test_look_aheads_are_left_to_the_regex_so_a_report_may_be_a_false_alarm() -> None:
    pattern = compile_pattern("you decide ~(now)")
    assert PatternAutomaton([pattern]).matching(analyse("you decide now")) == {0: [1]}
    assert list(pattern.find(analyse("you decide now"))) == []


@pytest.fixture(scope="module")
def replies() -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        if path.name == "holdout4_replies.jsonl":
            continue  # sealed: its replies must never show up in a failure message
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return texts


def test_never_misses_a_bundled_pattern_on_any_labelled_reply(
    bundled_library: ContentLibrary, replies: list[str]
) -> None:
    evaluator = bundled_library.evaluator
    patterns: list[Pattern] = list(evaluator._patterns)
    machine = evaluator._automaton
    matched = woken = 0
    for text in replies:
        analysis = evaluator.analyse(text)
        found = machine.matching(analysis)
        woken += len(found)
        for index, pattern in enumerate(patterns):
            if pattern.find(analysis):
                assert index in found, (pattern.source, text)
                matched += 1
    assert matched > 1000
    # A filter that woke every pattern would be safe and useless: it must stay selective
    # (measured: 4.3 patterns woken per pattern that matches).
    assert woken < 5 * matched


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


def test_many_threads_building_the_automaton_at_once_get_the_answers_one_thread_gets(
    bundled_library: ContentLibrary, replies: list[str]
) -> None:
    evaluator = bundled_library.evaluator
    patterns = list(evaluator._patterns)
    analyses = [evaluator.analyse(text) for text in replies[:400]]
    alone = PatternAutomaton(patterns)
    expected = [alone.matching(a) for a in analyses]
    shared = PatternAutomaton(patterns)
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Every thread walks the replies in its own order, so new steps are built concurrently.
        orders = [analyses[i * 50 :] + analyses[: i * 50] for i in range(8)]
        results = list(pool.map(lambda batch: [(a.text, shared.matching(a)) for a in batch], orders))
    by_text = {a.text: found for a, found in zip(analyses, expected, strict=True)}
    for batch in results:
        for text, found in batch:
            assert found == by_text[text]
