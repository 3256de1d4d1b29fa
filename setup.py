"""Builds Coach, compiling the evaluator's hot path with mypyc.

Evaluating a reply is pure, typed Python that runs for every turn; mypyc compiles these
modules to C extensions, which makes evaluation about 1.5x faster (docs/benchmarks.md).
Set COACH_PURE_PYTHON=1 to build without a C compiler: the same code then runs as plain
Python, only slower.
"""

import os

from setuptools import setup

# The evaluation hot path: text analysis, the pattern automaton, pattern scans, scoring.
COMPILED = [
    "coach/domain/text.py",
    "coach/domain/patterns.py",
    "coach/domain/automaton.py",
    "coach/domain/evaluator.py",
    "coach/domain/selfdisclosure.py",
]

extensions = []
if os.environ.get("COACH_PURE_PYTHON") != "1":
    from mypyc.build import mypycify

    # The shared runtime library lives inside the package, so it imports from anywhere.
    extensions = mypycify(COMPILED, opt_level="3", group_name="coach.domain.compiled")

setup(ext_modules=extensions)
