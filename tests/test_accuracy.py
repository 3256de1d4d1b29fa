"""The evaluator's agreement with trainers, held above floors that are only ever raised.

The labelled replies in tests/data were written from the standards in ethics.md, not from
the rubric patterns. Floors come from measured figures (see the README's accuracy section).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach.authoring.library import ContentLibrary, load_rubric_library
from coach.domain.calibration import DimensionCalibration, calibrate
from coach.domain.rubric import Verdict
from tests.conftest import BUNDLED_RUBRICS, ROOT

DATA = ROOT / "tests" / "data"
LABELLED = DATA / "labelled_replies.jsonl"

MACRO_F1_FLOOR = {"autonomy": 0.993, "boundaries": 0.991}
BOUNDARIES_VIOLATED_RECALL_FLOOR = 0.995
TRAPS_WRONGLY_VIOLATED_CEILING = 0.03
# Sets written by other authors from the standards alone. holdout, holdout2 and holdout3
# guided later rubric work (rounds two, three and four) by their categories of misses, so
# none of them is an unseen-data estimate any more. holdout4, by a fifth author, is sealed:
# nobody tuning the rubrics reads it, so its floor guards the honest figure on unseen replies.
HOLDOUT_FLOORS = {
    "holdout_replies.jsonl": {"autonomy": 0.975, "boundaries": 0.991},
    "holdout2_replies.jsonl": {"autonomy": 0.984, "boundaries": 0.988},
    "holdout3_replies.jsonl": {"autonomy": 0.965, "boundaries": 0.981},
    "holdout4_replies.jsonl": {"autonomy": 0.88, "boundaries": 0.865},
}


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def library() -> ContentLibrary:
    return load_rubric_library(BUNDLED_RUBRICS)


def measure(library: ContentLibrary, path: Path) -> tuple[dict[str, DimensionCalibration], float]:
    pairs = []
    traps = wrong = 0
    for row in rows(path):
        labels = row["labels"]
        assert isinstance(labels, dict)
        expected = {d: Verdict(v) for d, v in labels.items()}
        evaluation = library.evaluator.evaluate(str(row["text"]))
        predicted = {d: r.verdict for d, r in evaluation.dimensions.items()}
        pairs.append((expected, predicted))
        if "trap" in row.get("tags", []):  # type: ignore[operator]
            for dim, verdict in expected.items():
                if verdict is not Verdict.VIOLATED:
                    traps += 1
                    wrong += predicted[dim] is Verdict.VIOLATED
    return calibrate(pairs, list(library.rubrics)), wrong / traps if traps else 0.0


def test_the_labelled_set_is_big_and_varied_enough() -> None:
    data = rows(LABELLED)
    tags = [t for row in data for t in row["tags"]]  # type: ignore[attr-defined]
    assert len(data) >= 400
    assert tags.count("trap") >= 60
    assert tags.count("mixed") >= 40
    assert tags.count("typo") >= 30
    assert tags.count("neutral") >= 40


def test_agreement_on_the_labelled_set_stays_above_its_floors(library: ContentLibrary) -> None:
    results, trap_rate = measure(library, LABELLED)
    for dim, floor in MACRO_F1_FLOOR.items():
        assert results[dim].macro_f1 >= floor, dim
    assert results["boundaries"].scores(Verdict.VIOLATED).recall >= BOUNDARIES_VIOLATED_RECALL_FLOOR
    assert trap_rate <= TRAPS_WRONGLY_VIOLATED_CEILING


@pytest.mark.parametrize("name", sorted(HOLDOUT_FLOORS))
def test_agreement_on_the_holdout_sets_stays_above_its_floors(library: ContentLibrary, name: str) -> None:
    results, _ = measure(library, DATA / name)
    for dim, floor in HOLDOUT_FLOORS[name].items():
        # Only the figure is reported: a failure must not print the replies of a sealed set.
        figure = results[dim].macro_f1
        assert figure >= floor, f"{name} {dim}: macro-F1 {figure:.3f} is below its floor {floor}"
