"""Read a YAML content file and remember where every value sits, for file:line:column messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from coach.errors import ContentError, SourceLocation

PathKey = tuple[str | int, ...]

# libyaml's parser when PyYAML was built with it (ten times faster); the same marks either way.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlSource:
    file: str
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: PathKey) -> SourceLocation:
        """The location of ``path``, or of its nearest ancestor that the file spells out."""
        for cut in range(len(path), -1, -1):
            position = self.positions.get(tuple(path[:cut]))
            if position is not None:
                return SourceLocation(self.file, position[0], position[1])
        return SourceLocation(self.file, 1, 1)

    def errors_from(self, exc: ValidationError) -> list[ContentError]:
        out = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if isinstance(p, str | int))
            where = ".".join(str(p) for p in loc) or "file"
            message = error["msg"].removeprefix("Value error, ")
            out.append(ContentError(f"{where}: {message}", self.locate(loc)))
        return out


def load_yaml(path: Path, display: str | None = None) -> YamlSource:
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"not UTF-8 text ({exc.reason})", SourceLocation(name)) from exc
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlSource:
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise ContentError(f"YAML syntax: {exc.problem or exc}", SourceLocation(name, line, column)) from exc
    except yaml.YAMLError as exc:
        raise ContentError(f"YAML syntax: {exc}", SourceLocation(name)) from exc
    if root is None:
        raise ContentError("the file is empty", SourceLocation(name, 1, 1))
    source = YamlSource(file=name, data=None)
    source.data = _convert(root, (), source.positions, name)
    return source


def _convert(node: yaml.Node, path: PathKey, positions: dict[PathKey, tuple[int, int]], name: str) -> Any:
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            where = SourceLocation(name, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key == "<<":
                raise ContentError("YAML merge keys are not supported; write the fields out", where)
            if not isinstance(key, str | int):
                raise ContentError("keys must be plain text", where)
            key = str(key)
            if key in out:
                raise ContentError(f"duplicate key {key!r}", where)
            positions[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _convert(value_node, (*path, key), positions, name)
            positions[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), positions, name) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    # SafeConstructor resolves the scalar's tag (int, bool, null, ...) exactly as safe_load would.
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
