"""Layers import only downward, and the domain stays pure (DESIGN.md, "Architecture")."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "coach"

# What each layer may import from coach (besides itself and coach.errors).
ALLOWED = {
    "domain": set(),
    "authoring": {"domain"},
    "store": {"domain"},
    "services": {"domain", "authoring", "store"},
    "integrations": {"domain", "authoring", "store", "services"},
    "api": {"domain", "authoring", "store", "services", "integrations", "config"},
    "cli": {"domain", "authoring", "store", "services", "integrations", "api", "config", "cli_lti"},
    "cli_lti": {"domain", "authoring", "store", "services", "integrations", "api", "config"},
    "config": set(),
    "errors": set(),
}
DOMAIN_THIRD_PARTY = {"pydantic", "snowballstemmer"}
IO_MODULES = {
    "os",
    "io",
    "pathlib",
    "socket",
    "subprocess",
    "shutil",
    "sqlite3",
    "urllib",
    "http",
    "asyncio",
    "time",
    "random",
    "tempfile",
}


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 else relative.stem


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_import_only_downward(path: Path) -> None:
    layer = layer_of(path)
    if layer not in ALLOWED:
        pytest.fail(f"{path} is in no known layer; add it to DESIGN.md and this test")
    for name in imports(path):
        if not name.startswith("coach."):
            continue
        target = name.split(".")[1]
        assert target in ALLOWED[layer] | {layer, "errors"} or name == "coach", (
            f"{path}: {layer} imports {name}"
        )


@pytest.mark.parametrize("path", sorted((PACKAGE / "domain").rglob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_only_the_standard_library_pydantic_and_itself(path: Path) -> None:
    for name in imports(path):
        top = name.split(".")[0]
        if top == "coach":
            assert name == "coach.errors" or name.startswith("coach.domain"), name
            continue
        assert top in sys.stdlib_module_names or top in DOMAIN_THIRD_PARTY, f"{path.name} imports {name}"
        assert top not in IO_MODULES, f"{path.name} imports {name}, which does I/O"
