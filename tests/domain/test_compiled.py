"""The mypyc-compiled evaluator and the plain Python one must judge every reply the same."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_RUBRICS, DOMAIN, ROOT

SCRIPT = """
import json, sys
from pathlib import Path
# An editable install finds the repository's own package first; let PYTHONPATH decide.
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
import coach.domain.text
from coach.authoring.library import load_rubric_library
evaluator = load_rubric_library(Path(sys.argv[1])).evaluator
out = {"compiled": coach.domain.text.__file__.endswith(".so"), "evaluations": []}
for line in Path(sys.argv[2]).read_text(encoding="utf-8").splitlines():
    out["evaluations"].append(evaluator.evaluate(json.loads(line)["text"]).contract())
print(json.dumps(out))
"""


def evaluations(python_path: Path) -> dict[str, object]:
    replies = ROOT / "tests" / "data" / "labelled_replies.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(BUNDLED_RUBRICS), str(replies)],
        env={"PYTHONPATH": str(python_path), "PATH": "/usr/bin:/bin"},
        cwd=python_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_plain_python_and_the_compiled_build_agree_on_every_labelled_reply(tmp_path: Path) -> None:
    if not list(DOMAIN.glob("*.so")):
        pytest.skip("built with COACH_PURE_PYTHON=1: there is only one build to compare")
    # A copy of the package without the compiled extensions is plain Python.
    plain = tmp_path / "plain"
    shutil.copytree(ROOT / "coach", plain / "coach", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    compiled, interpreted = evaluations(ROOT), evaluations(plain)
    assert compiled["compiled"] is True
    assert interpreted["compiled"] is False
    assert compiled["evaluations"] == interpreted["evaluations"]
