"""The README stays honest: every setting and every endpoint is documented."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coach.config import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert f"`COACH_{name.upper()}`" in README, name


def test_every_endpoint_is_in_the_readme(client: TestClient) -> None:
    for path, methods in client.get("/openapi.json").json()["paths"].items():
        for method in methods:
            assert (
                f"`{method.upper()} {path.replace('{scenario_id}', '{id}').replace('{session_id}', '{id}')}"
                in README
            )


def test_every_problem_type_is_in_the_readme() -> None:
    from coach.api.problems import DESCRIPTIONS

    for code in DESCRIPTIONS:
        if code not in {"internal", "content-error", "engine-error", "unsupported-media-type"}:
            assert f"/problems/{code}" in README, code
