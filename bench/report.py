"""Render bench/results.json as docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGETS = """Targets (from the benchmark brief, checked here, never asserted in tests): evaluator p50
under 0.2 ms for a 300-character reply; `POST /api/v1/evaluate` at least 0.7x and turn
submission at least 0.5x the bare endpoint's throughput on SQLite; no errors under load."""


PROFILE = """How one evaluation runs (docs/patterns.md, "How the patterns run"): the reply is split
into terms; one pass of the pattern automaton over the terms reports the patterns whose
rarest gap-free run of words occurred; each of those whose mandatory words are all in the
reply runs its regex at the few places a match can start; then negation, `unless`/`requires`
and verdicts. The hot path is compiled with mypyc (setup.py), about 1.5x faster than the
same code as plain Python (0.18 against 0.28 ms here). A py-spy profile of the
300-character reply above puts about a third of the time in text analysis, a third in the
regexes that confirm reported patterns (about 44 reported, 21 confirmed), and the rest in
the automaton (7%), the mandatory-word checks (7%), verdicts and evidence (7%) and
negation and context. Before the automaton
(1,406 patterns, each candidate run as its own regex) the same reply took 2.85 ms.

Unseen replies cost more than a repeated one because the automaton builds its DFA
lazily: a reply whose sequence of word classes is new needs new steps worked out (about 28
of 62 terms for an unseen 300-character reply after 500 replies of warm-up, each a few
microseconds), and its new words need stemming and typo correction once. Both caches stay
bounded (the DFA starts afresh past 50,000 states; words past 200,000).

HTTP: `POST /api/v1/evaluate` costs about 1.7 ms per request against 0.7 ms for the bare
endpoint, of which evaluation is now 0.17 ms: the rest is the service's own middleware
(body limit, rate limit, security headers, JSON request log), validation and the response
model, so the ratio (about 0.35x) is set by the request path, not by the evaluator. Turn
submission adds a transactional write with a revision check and the outbox. Reading a
transcript and building a report stay flat (under 1 ms) from 100,000 to 1,000,000 turns;
start-up is dominated by compiling the patterns' regexes and the automaton."""


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
            "of the pattern automaton already worked out. Replies it has never seen (holdout,",
            "holdout2 and holdout3, each evaluated once) cost more while those caches fill:",
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
