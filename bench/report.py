"""Render bench/results.json as docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGETS = """Targets (from the benchmark brief, checked here, never asserted in tests): evaluator p50
under 0.2 ms for a 300-character reply; `POST /api/v1/evaluate` at least 0.7x and turn
submission at least 0.5x the bare endpoint's throughput on SQLite; no errors under load."""


PROFILE = """Profile of one 300-character evaluation with the bundled rubrics (74 criteria, 1,406
patterns), measured in-process: total 3.2 ms = text analysis 0.2 ms + choosing the patterns
that can match (260 of 1,406) 0.8 ms + running those patterns' regexes 1.6 ms + negation,
`unless`/`requires` and verdicts 0.7 ms. The time is Python overhead per candidate pattern,
so it grows with the number of patterns the rubrics hold (linear in criteria, above) rather
than with anything a request does. HTTP figures follow: `POST /api/v1/evaluate` spends about
6 ms per request against 0.6 ms for the bare endpoint, and turn submission the same plus a
few tenths of a millisecond for the database, so both sit at about 0.1x the bare throughput.
What stands between these figures and the targets (0.2 ms per evaluation, 0.7x and 0.5x) is
the per-pattern cost of a rubric set that grew to 1,406 patterns for accuracy: the targets
need either a compiled multi-pattern matcher (one automaton over all patterns) or far fewer,
broader patterns. Reading a transcript and building a report stay flat (about 1 ms) from
100,000 to 1,000,000 turns; start-up is dominated by compiling the patterns' regexes."""


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(results: dict[str, Any], path: Path) -> None:
    m = results["machine"]
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.run`); every figure is also in `bench/results.json`.",
        "",
        f"- Date: {m['date']}" + (" (quick run)" if results.get("quick") else ""),
        f"- Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
        TARGETS,
        "",
    ]
    ev = results.get("evaluator")
    if ev:
        out += [
            "## Evaluator",
            "",
            f"All bundled rubrics: {ev['criteria']} criteria, {ev['patterns']} patterns, compiled once.",
            "",
            _table(
                ["reply length", "replies/s", "p50 ms", "p99 ms"],
                [
                    [f"{k} chars", v["per_second"], v["p50_ms"], v["p99_ms"]]
                    for k, v in ev["by_length"].items()
                ],
            ),
            "",
            "The same reply evaluated again and again, as above, finds every word and every step",
            "of the pattern automaton already worked out. Replies it has never seen (the holdout",
            "sets, each evaluated once) cost more while those caches fill:",
            "",
            _table(
                ["unseen replies", "replies", "replies/s", "p50 ms", "p99 ms"],
                [
                    [k, v["replies"], v["per_second"], v["p50_ms"], v["p99_ms"]]
                    for k, v in ev.get("unseen_replies", {}).items()
                    if isinstance(v, dict)
                ],
            ),
            "",
            "Growth with reply length (median ms):",
            "",
            _table(["chars", "ms"], [[k, v] for k, v in ev["growth_with_length_ms"].items()]),
            "",
            "Cost per 1,000 characters at 100 and at 8,000 characters: "
            + " ms and ".join(str(x) for x in ev["ms_per_1000_chars_at_100_and_8000"])
            + " ms (falling or flat means linear or better).",
            "",
            "Growth with the number of criteria (300-character reply, median ms):",
            "",
            _table(["rubrics", "ms"], [[k, v] for k, v in ev["growth_with_criteria_ms"].items()]),
            "",
        ]
    http = results.get("http")
    if http:
        out += [
            "## HTTP",
            "",
            f"Each level runs {http['seconds_per_level']} s of closed-loop load from a separate process",
            "",
        ]
        bare = http["bare"]
        for name in ("sqlite", "postgresql"):
            section = http.get(name) or {}
            if "evaluate" not in section:
                if section:
                    out += [f"### {name}", "", f"Skipped: {section.get('skipped')}", ""]
                continue
            for kind, label in (("evaluate", "POST /api/v1/evaluate"), ("turns", "turn submission")):
                rows = []
                for level, fig in section[kind].items():
                    rows.append(
                        [
                            level,
                            fig["throughput_rps"],
                            bare[level]["throughput_rps"],
                            section["ratio_to_bare"][kind][level],
                            fig["p50_ms"],
                            fig["p99_ms"],
                            bare[level]["p50_ms"],
                            fig["errors"],
                        ]
                    )
                out += [
                    f"### {label} on {name}",
                    "",
                    _table(
                        [
                            "clients",
                            "req/s",
                            "bare req/s",
                            "ratio",
                            "p50 ms",
                            "p99 ms",
                            "bare p50 ms",
                            "errors",
                        ],
                        rows,
                    ),
                    "",
                ]
            idle, loaded = section["rss_idle_mb"], section["rss_after_load_mb"]
            out += [f"Server RSS on {name}: {idle} MB idle, {loaded} MB after the load.", ""]
    scale = results.get("scale")
    if scale:
        out += [
            "## Scale",
            "",
            "Reading one session's transcript and building its report while the database grows.",
            "",
            _table(
                ["database", "transcript p50 ms", "transcript p99 ms", "report p50 ms", "report p99 ms"],
                [
                    [
                        k,
                        v["transcript"]["p50_ms"],
                        v["transcript"]["p99_ms"],
                        v["report"]["p50_ms"],
                        v["report"]["p99_ms"],
                    ]
                    for k, v in scale.items()
                ],
            ),
            "",
        ]
    startup = results.get("startup")
    if startup:
        out += [
            "## Start-up and memory",
            "",
            _table(
                ["content", "start-up s", "RSS MB"],
                [[k, v["startup_s"], v["rss_mb"]] for k, v in startup.items()],
            ),
            "",
        ]
    notes = results.get("notes") or PROFILE
    if notes:
        out += ["## Where the time goes", "", notes, ""]
    path.write_text("\n".join(out))
