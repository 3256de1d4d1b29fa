"""Calibration arithmetic: confusion matrices and F1 as trainers read them."""

from coach.domain.calibration import calibrate
from coach.domain.rubric import Verdict

M, V, A = Verdict.MET, Verdict.VIOLATED, Verdict.ABSENT


def test_confusion_precision_recall_and_macro_f1() -> None:
    pairs = [({"d": M}, {"d": M}), ({"d": M}, {"d": A}), ({"d": V}, {"d": V}), ({"d": A}, {"d": A})]
    result = calibrate(pairs, ["d"])["d"]
    assert result.confusion[M][A] == 1
    assert result.accuracy == 0.75
    assert result.scores(M).recall == 0.5
    assert result.scores(A).precision == 0.5
    assert result.scores(V).f1 == 1.0
    assert result.macro_f1 == round((2 / 3 + 1.0 + 2 / 3) / 3, 4)
