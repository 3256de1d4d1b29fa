"""Pure domain logic: scenarios, rubrics, text matching, evaluation, feedback, the engine.

This package does no I/O: no files, network, clock reads, environment or database. It
imports only the standard library, pydantic, snowballstemmer (a pure stemming function)
and itself, so everything here is deterministic and tested fast (tests/test_architecture.py
keeps that true). Content arrives as already-parsed data from :mod:`coach.authoring`.
"""
