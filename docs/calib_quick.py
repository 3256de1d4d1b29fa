"""Temporary helper for rubric authors until `coach calibrate` lands: python docs/calib_quick.py [dim]"""
import json, sys
from pathlib import Path
from coach.authoring.library import lint
from coach.domain.calibration import calibrate
from coach.domain.rubric import Verdict
lib, findings = lint(Path("scenarios"), Path("rubrics"))
for f in findings:
    if "scenarios" not in f.location.file: print(f)
rows = [json.loads(l) for l in Path("tests/data/labelled_replies.jsonl").read_text().splitlines() if l.strip()]
dims = [d for d in lib.rubrics] if lib else []
want = sys.argv[1] if len(sys.argv) > 1 else None
pairs, wrong = [], []
for r in rows:
    ev = lib.evaluator.evaluate(r["text"], dimensions=dims)
    exp = {d: Verdict(r["labels"][d]) for d in dims}
    got = {d: ev.dimensions[d].verdict for d in dims}
    pairs.append((exp, got))
    for d in dims:
        if (want in (None, d)) and exp[d] != got[d]:
            wrong.append((d, r["id"], exp[d].value, got[d].value, r["text"], [(m.criterion, m.text) for m in ev.matches if m.dimension == d]))
for d, c in calibrate(pairs, dims).items():
    print(d, "acc", round(c.accuracy, 3), "macroF1", c.macro_f1, {v.value: c.scores(v) for v in (Verdict.MET, Verdict.VIOLATED, Verdict.ABSENT)})
for w in wrong: print(*w, sep=" | ")
