"""The README stays honest: every setting and every endpoint is documented."""

from __future__ import annotations

from pathlib import Path

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


def tutorial_yaml() -> str:
    import re

    part = (ROOT / "docs" / "authoring.md").read_text().split("## Tutorial")[1].split("## Reference")[0]
    return "".join(re.findall(r"```yaml\n(.*?)```", part, re.S))


def test_the_authoring_tutorial_builds_a_scenario_that_validates(tmp_path: Path) -> None:
    from coach.authoring.library import lint

    (tmp_path / "hold-my-phone.yaml").write_text(tutorial_yaml())
    library, findings = lint(tmp_path, ROOT / "rubrics")
    assert [str(f) for f in findings] == []
    assert library is not None
    assert {w.path[-1] for w in library.play("hold-my-phone").scenario.walkthroughs} == {"good", "poor"}


def test_the_authoring_reference_names_every_field() -> None:
    from pydantic import BaseModel

    from coach.domain.rubric import Criterion, Detector, MissedTip, Rubric, RubricExample, Unless
    from coach.domain.scenario import (
        Branch,
        Ending,
        Node,
        NodeCriterion,
        Persona,
        Scenario,
        TurnLimit,
        Variable,
        Walkthrough,
    )

    text = (ROOT / "docs" / "authoring.md").read_text()
    reference = text[text.index("## Reference") :]
    models: list[type[BaseModel]] = [
        Scenario, Persona, Variable, TurnLimit, Node, Branch, Ending, Walkthrough, NodeCriterion,
        Rubric, Criterion, Unless, Detector, RubricExample, MissedTip,
    ]  # fmt: skip
    for model in models:
        for field in model.model_fields:
            assert f"`{field}`" in reference, f"{model.__name__}.{field}"
