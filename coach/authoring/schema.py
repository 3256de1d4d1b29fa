"""JSON Schema for content files, so editors complete and check scenario and rubric YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coach.domain.rubric import Rubric
from coach.domain.scenario import Scenario

SCHEMA_FILES: dict[str, type[Scenario] | type[Rubric]] = {
    "scenario.schema.json": Scenario,
    "rubric.schema.json": Rubric,
}


def schema_for(model: type[Scenario] | type[Rubric]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://coach.invalid/schemas/{model.__name__.lower()}.schema.json"
    return schema


def render_schemas() -> dict[str, str]:
    return {name: json.dumps(schema_for(model), indent=2) + "\n" for name, model in SCHEMA_FILES.items()}


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
