"""Pictures of a scenario: Mermaid, Graphviz dot, or a self-contained SVG.

Endings are drawn by outcome (good, mixed, poor); fallback branches are dashed; a
session's path can be highlighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise

from coach.authoring.library import parse_fallback
from coach.domain.scenario import Scenario

OUTCOME_COLOURS = {"good": "#1b7f3b", "mixed": "#9a6a00", "poor": "#b3261e"}
PATH_COLOUR = "#1a56db"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    fallback: bool


def edges_of(scenario: Scenario) -> list[Edge]:
    out: list[Edge] = []
    for node_id, node in scenario.nodes.items():
        for branch in node.branches:
            fallback = parse_fallback(branch.when)
            out.append(Edge(node_id, branch.goto, "otherwise" if fallback else branch.when, fallback))
    return out


def _path_edges(path: Sequence[str]) -> set[tuple[str, str]]:
    return set(pairwise(path))


def _label(scenario: Scenario, node_id: str) -> str:
    node = scenario.nodes[node_id]
    return f"{node.ending.title} ({node.ending.outcome.value})" if node.ending else node_id


def mermaid(scenario: Scenario, path: Sequence[str] = ()) -> str:
    ids = {node_id: f"n{i}" for i, node_id in enumerate(scenario.nodes)}
    lines = ["flowchart TD"]
    for node_id, node in scenario.nodes.items():
        text = _label(scenario, node_id).replace('"', "'")
        shape = f'(["{text}"])' if node.is_ending else f'["{text}"]'
        lines.append(f"    {ids[node_id]}{shape}")
    on_path = _path_edges(path)
    link_styles = []
    for index, edge in enumerate(edges_of(scenario)):
        label = edge.label.replace('"', "'").replace("|", "/")
        arrow = "-.->" if edge.fallback else "-->"
        lines.append(f'    {ids[edge.source]} {arrow}|"{label}"| {ids[edge.target]}')
        if (edge.source, edge.target) in on_path:
            link_styles.append(f"    linkStyle {index} stroke:{PATH_COLOUR},stroke-width:3px")
    for outcome, colour in OUTCOME_COLOURS.items():
        lines.append(f"    classDef {outcome} fill:{colour},color:#ffffff,stroke:{colour}")
    for node_id, node in scenario.nodes.items():
        if node.ending:
            lines.append(f"    class {ids[node_id]} {node.ending.outcome.value}")
    if path:
        lines.append(f"    classDef visited stroke:{PATH_COLOUR},stroke-width:3px")
        lines.extend(
            f"    class {ids[n]} visited"
            for n in dict.fromkeys(path)
            if n in ids and not scenario.nodes[n].ending
        )
    return "\n".join(lines + link_styles) + "\n"


def dot(scenario: Scenario, path: Sequence[str] = ()) -> str:
    on_path = _path_edges(path)
    visited = set(path)
    lines = [
        f'digraph "{scenario.id}" {{',
        "  rankdir=TB;",
        '  node [fontname="Helvetica", shape=box, style=rounded];',
    ]
    for node_id, node in scenario.nodes.items():
        attrs = [f'label="{_label(scenario, node_id)}"']
        if node.ending:
            colour = OUTCOME_COLOURS[node.ending.outcome.value]
            attrs += ["shape=ellipse", "style=filled", f'fillcolor="{colour}"', 'fontcolor="white"']
        if node_id in visited:
            attrs += [f'color="{PATH_COLOUR}"', "penwidth=3"]
        lines.append(f'  "{node_id}" [{", ".join(attrs)}];')
    for edge in edges_of(scenario):
        attrs = [f'label="{edge.label}"']
        if edge.fallback:
            attrs.append("style=dashed")
        if (edge.source, edge.target) in on_path:
            attrs += [f'color="{PATH_COLOUR}"', "penwidth=3"]
        lines.append(f'  "{edge.source}" -> "{edge.target}" [{", ".join(attrs)}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layers(scenario: Scenario) -> dict[str, int]:
    """Depth of each node by breadth-first search from the start (back edges ignored)."""
    depth = {scenario.start: 0}
    queue = [scenario.start]
    edges = edges_of(scenario)
    while queue:
        current = queue.pop(0)
        for edge in edges:
            if edge.source == current and edge.target not in depth:
                depth[edge.target] = depth[current] + 1
                queue.append(edge.target)
    deepest = max(depth.values(), default=0)
    for node_id in scenario.nodes:
        depth.setdefault(node_id, deepest + 1)
    return depth


def svg(scenario: Scenario, path: Sequence[str] = ()) -> str:
    """A layered drawing that needs no Graphviz: one row per depth from the start."""
    width, height, gap_x, gap_y = 170, 44, 30, 70
    layers = _layers(scenario)
    rows: dict[int, list[str]] = {}
    for node_id in scenario.nodes:
        rows.setdefault(layers[node_id], []).append(node_id)
    widest = max(len(r) for r in rows.values())
    canvas_w = widest * (width + gap_x) + gap_x
    canvas_h = len(rows) * (height + gap_y) + gap_y
    position: dict[str, tuple[float, float]] = {}
    parents: dict[str, list[str]] = {}
    for edge in edges_of(scenario):
        if layers[edge.source] < layers[edge.target]:
            parents.setdefault(edge.target, []).append(edge.source)
    for depth in sorted(rows):
        members = rows[depth]
        if depth:
            # Order each row by where its parents sit, which untangles most crossings.
            order = {n: i for i, n in enumerate(rows.get(depth - 1, []))}

            def centre(node_id: str, order: dict[str, int] = order) -> float:
                seen = [order[p] for p in parents.get(node_id, []) if p in order]
                return sum(seen) / len(seen) if seen else float(len(order))

            members.sort(key=centre)
        offset = (canvas_w - len(members) * (width + gap_x) + gap_x) / 2
        for index, node_id in enumerate(members):
            position[node_id] = (offset + index * (width + gap_x), gap_y / 2 + depth * (height + gap_y))
    on_path = _path_edges(path)
    visited = set(path)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas_w:.0f}" height="{canvas_h:.0f}" '
        f'viewBox="0 0 {canvas_w:.0f} {canvas_h:.0f}" role="img" '
        f'aria-label="Map of {escape(scenario.title)}">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#555'/></marker></defs>",
        f"<title>{escape(scenario.title)}</title>",
    ]
    for edge in edges_of(scenario):
        x1, y1 = position[edge.source]
        x2, y2 = position[edge.target]
        start = (x1 + width / 2, y1 + height)
        end = (x2 + width / 2, y2) if y2 > y1 else (x2 + width / 2, y2 + height)
        bend = (start[1] + end[1]) / 2 if y2 > y1 else max(start[1], end[1]) + gap_y / 2
        highlighted = (edge.source, edge.target) in on_path
        colour = PATH_COLOUR if highlighted else "#555"
        dash = " stroke-dasharray='6 4'" if edge.fallback else ""
        out.append(
            f"<path d='M{start[0]:.0f},{start[1]:.0f} C{start[0]:.0f},{bend:.0f} {end[0]:.0f},{bend:.0f} "
            f"{end[0]:.0f},{end[1]:.0f}' fill='none' stroke='{colour}' "
            f"stroke-width='{3 if highlighted else 1.5}'"
            f"{dash} marker-end='url(#arrow)'><title>{escape(edge.label)}</title></path>"
        )
    for node_id, node in scenario.nodes.items():
        x, y = position[node_id]
        fill, text_colour = ("#ffffff", "#1a1a1a")
        if node.ending:
            fill, text_colour = OUTCOME_COLOURS[node.ending.outcome.value], "#ffffff"
        stroke = PATH_COLOUR if node_id in visited else "#555"
        rx = height / 2 if node.ending else 8
        label = _label(scenario, node_id)
        short = label if len(label) <= 24 else label[:23] + "…"
        out.append(
            f"<g><rect x='{x:.0f}' y='{y:.0f}' width='{width}' height='{height}' rx='{rx:.0f}' "
            f"fill='{fill}' "
            f"stroke='{stroke}' stroke-width='{3 if node_id in visited else 1.5}'/>"
            f"<text x='{x + width / 2:.0f}' y='{y + height / 2 + 5:.0f}' text-anchor='middle' "
            f"font-family='Helvetica, Arial, sans-serif' font-size='13' fill='{text_colour}'>{escape(short)}"
            f"<title>{escape(label)}</title></text></g>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


RENDERERS = {"mermaid": mermaid, "dot": dot, "svg": svg}
