"""Run every benchmark and write docs/benchmarks.md and bench/results.json.

    python -m bench.run            # the full suite (about ten minutes on two cores)
    python -m bench.run --quick    # shorter runs and a smaller database, for a smoke check

Figures are measurements on this machine, reported as numbers and ratios; nothing here is a
pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import insert

from bench.load import request_bytes, run_load
from coach.authoring.library import load_library, load_rubric_library
from coach.domain.evaluator import Evaluator
from coach.domain.rubric import Rubric

ROOT = Path(__file__).resolve().parent.parent
COACH = str(Path(sys.executable).parent / "coach")
SAMPLE = (
    "I hear how tired you are of everyone telling you what to do, and honestly that makes sense. "
    "It's your call, and I'm not going to push you either way. What would feel right for you this week? "
    "If you want, I could share what has helped other people, and you can take it or leave it. "
)


def text_of(length: int) -> str:
    return (SAMPLE * (length // len(SAMPLE) + 1))[:length]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 4),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 4),
        "per_second": round(len(ordered) / sum(ordered), 1),
    }


def time_calls(call: Callable[[], object], repeat: int) -> list[float]:
    for _ in range(max(5, repeat // 20)):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


# -- evaluator ------------------------------------------------------------------------------


def multiplied(rubrics: list[Rubric], factor: int) -> list[Rubric]:
    """The bundled rubrics with every criterion repeated ``factor`` times under new ids."""
    if factor == 1:
        return rubrics
    out = []
    for rubric in rubrics:
        criteria = []
        for copy in range(factor):
            suffix = "" if copy == 0 else f"-x{copy}"
            for criterion in rubric.criteria:
                unless = criterion.unless
                if unless is not None and suffix:
                    unless = unless.model_copy(
                        update={"criteria": tuple(c + suffix for c in unless.criteria)}
                    )
                criteria.append(criterion.model_copy(update={"id": criterion.id + suffix, "unless": unless}))
        out.append(rubric.model_copy(update={"criteria": tuple(criteria), "examples": ()}))
    return out


def bench_evaluator(quick: bool) -> dict[str, Any]:
    library = load_rubric_library(ROOT / "rubrics")
    rubrics = list(library.rubrics.values())
    evaluator = library.evaluator
    repeat = 200 if quick else 1000
    by_length = {}
    for length in (50, 300, 2000):
        text = text_of(length)
        by_length[str(length)] = percentiles(time_calls(partial(evaluator.evaluate, text), repeat))
    growth_length = {}
    for length in (100, 250, 500, 1000, 2000, 4000, 8000):
        text = text_of(length)
        samples = time_calls(partial(evaluator.evaluate, text), repeat // 4)
        growth_length[str(length)] = round(statistics.median(samples) * 1000, 4)
    growth_criteria = {}
    text = text_of(300)
    for factor in (1, 4, 16):
        scaled = Evaluator(multiplied(rubrics, factor))
        samples = time_calls(partial(scaled.evaluate, text), repeat // 4)
        growth_criteria[f"{factor}x ({len(scaled.criteria)} criteria)"] = round(
            statistics.median(samples) * 1000, 4
        )
    lengths = sorted(int(k) for k in growth_length)
    per_char = [growth_length[str(n)] / n for n in lengths]
    return {
        "criteria": len(evaluator.criteria),
        "patterns": sum(len(c.patterns) for c in evaluator.criteria),
        "by_length": by_length,
        "unseen_replies": bench_unseen_replies(rubrics),
        "growth_with_length_ms": growth_length,
        "ms_per_1000_chars_at_100_and_8000": [round(per_char[0] * 1000, 4), round(per_char[-1] * 1000, 4)],
        "growth_with_criteria_ms": growth_criteria,
    }


def bench_unseen_replies(rubrics: list[Rubric]) -> dict[str, Any]:
    """Replies the evaluator has never seen, each evaluated once, so no cache has their answer.

    "cold" is a freshly started evaluator meeting the holdout replies; "warm" has first seen
    the labelled set (other replies by other authors) and then meets the holdout replies for
    the first time, as a service does after its first few hundred replies. "warm, 300 chars"
    joins holdout replies into unseen 300-character replies.
    """
    data = ROOT / "tests" / "data"

    def texts(name: str) -> list[str]:
        lines = (data / name).read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["text"] for line in lines if line.strip()]

    # holdout4 is sealed for accuracy; the three earlier holdout sets are unseen enough here.
    names = ("holdout_replies.jsonl", "holdout2_replies.jsonl", "holdout3_replies.jsonl")
    unseen = [t for name in names for t in texts(name)]
    joined: list[str] = []
    pending = ""
    for text in unseen:
        pending = f"{pending} {text}".strip()
        if len(pending) >= 300:
            joined.append(pending[:300])
            pending = ""
    figures: dict[str, Any] = {"replies": len(unseen), "mean_chars": round(statistics.mean(map(len, unseen)))}
    for label, replies, warm in (
        ("cold", unseen, False),
        ("warm", unseen, True),
        ("warm, 300 chars", joined, True),
    ):
        evaluator = Evaluator(rubrics)
        if warm:
            for text in texts("labelled_replies.jsonl"):
                evaluator.evaluate(text)
        samples = []
        for text in replies:
            start = time.perf_counter()
            evaluator.evaluate(text)
            samples.append(time.perf_counter() - start)
        figures[label] = {"replies": len(replies), **percentiles(samples)}
    return figures


# -- servers --------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(
    command: list[str], env: dict[str, str], health: str
) -> Iterator[tuple[int, subprocess.Popen[bytes], float]]:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{health}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"server {command} exited")
            time.sleep(0.05)
        yield port, process, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def coach_env(database_url: str) -> dict[str, str]:
    return {
        "COACH_DATABASE_URL": database_url,
        "COACH_RATE_LIMIT_PER_MINUTE": "0",
        "COACH_LOG_LEVEL": "warning",
        "COACH_SCENARIOS_DIR": str(ROOT / "scenarios"),
        "COACH_RUBRICS_DIR": str(ROOT / "rubrics"),
    }


def evaluate_request(_: int) -> bytes:
    return request_bytes("POST", "/api/v1/evaluate", {"text": text_of(300)}, {})


def bare_request(_: int) -> bytes:
    return request_bytes("POST", "/evaluate", {"text": text_of(300)}, {})


TURN_REPLY = "Mm. Say more about that?"


class TurnFeeder:
    """Hands each virtual client a turn request in a live session, moving to a fresh session
    before the current one could reach an ending (so every request is a real, accepted turn)."""

    def __init__(self, port: int, expected_turns: int) -> None:
        self.pool: list[tuple[str, str]] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

            def new_session() -> tuple[str, str]:
                body = client.post("/api/v1/sessions", json={"scenario_id": "just-tell-me-what-to-do"}).json()
                return body["session_id"], body["token"]

            # How many turns this reply can take before the session ends: probe one session.
            probe_id, probe_token = new_session()
            self.turns_per_session = 0
            while True:
                reply = client.post(
                    f"/api/v1/sessions/{probe_id}/turns",
                    json={"text": TURN_REPLY},
                    headers={"Authorization": f"Bearer {probe_token}"},
                ).json()
                if reply.get("status") != "active":
                    break
                self.turns_per_session += 1
            needed = expected_turns // max(1, self.turns_per_session) + 8
            self.pool = [new_session() for _ in range(needed)]
        self.current: dict[int, tuple[str, str, int]] = {}
        self.next_index = 0

    def __call__(self, client: int) -> bytes:
        session_id, token, used = self.current.get(client, ("", "", 10**9))
        if used >= self.turns_per_session:
            session_id, token = self.pool[self.next_index % len(self.pool)]
            self.next_index += 1
            used = 0
        self.current[client] = (session_id, token, used + 1)
        return request_bytes(
            "POST",
            f"/api/v1/sessions/{session_id}/turns",
            {"text": TURN_REPLY},
            {"Authorization": f"Bearer {token}"},
        )


def postgres_database() -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, text

    admin_url = os.environ.get(
        "COACH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"coach_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin.url.set(database=name).render_as_string(hide_password=False), drop


def bench_http(quick: bool, workdir: Path) -> dict[str, Any]:
    seconds = 3.0 if quick else 8.0
    levels = (1, 8, 32, 64)
    results: dict[str, Any] = {"seconds_per_level": seconds, "bare": {}, "sqlite": {}, "postgresql": {}}
    bare = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--log-level", "warning"]
    with server(bare, {}, "/docs") as (port, _process, _):
        for level in levels:
            results["bare"][str(level)] = run_load(port, bare_request, level, seconds).summary()
    databases: list[tuple[str, str, Callable[[], None]]] = [
        ("sqlite", f"sqlite:///{workdir / 'bench.db'}", lambda: None)
    ]
    try:
        url, drop = postgres_database()
        databases.append(("postgresql", url, drop))
    except Exception as exc:
        results["postgresql"] = {"skipped": f"PostgreSQL unavailable: {exc}"}
    for name, url, drop in databases:
        try:
            with server([COACH, "serve"], coach_env(url), "/readyz") as (port, process, _):
                idle = rss_mb(process.pid)
                evaluate = {str(n): run_load(port, evaluate_request, n, seconds).summary() for n in levels}
                turns = {}
                for level in levels:
                    # Generous: more sessions than even an idle server could answer turns for.
                    feeder = TurnFeeder(port, expected_turns=int(600 * seconds))
                    turns[str(level)] = run_load(port, feeder, level, seconds).summary()
                results[name] = {
                    "evaluate": evaluate,
                    "turns": turns,
                    "rss_idle_mb": idle,
                    "rss_after_load_mb": rss_mb(process.pid),
                }
        finally:
            drop()
    for name in ("sqlite", "postgresql"):
        section = results.get(name, {})
        if "evaluate" not in section:
            continue
        section["ratio_to_bare"] = {
            kind: {
                level: round(
                    section[kind][level]["throughput_rps"]
                    / max(results["bare"][level]["throughput_rps"], 1e-9),
                    3,
                )
                for level in section[kind]
            }
            for kind in ("evaluate", "turns")
        }
    return results


# -- scale ----------------------------------------------------------------------------------


def bench_scale(quick: bool, workdir: Path) -> dict[str, Any]:
    """Transcript and report latency as the database grows (SQLite file)."""
    from coach.services.sessions import SessionService
    from coach.store.repository import Store
    from coach.store.tables import SessionRow, TurnRow

    library = load_library(ROOT / "scenarios", ROOT / "rubrics")
    store = Store(f"sqlite:///{workdir / 'scale.db'}")
    store.upgrade()
    service = SessionService(library, store)
    probe = service.start("just-tell-me-what-to-do")
    for reply in ["It sounds like a lot. What feels right to you?"] * 3:
        service.submit(probe.session_id, probe.token, reply)
    template_turn = store.turns(probe.session_id)[0]
    template_session = store.get_session(probe.session_id)
    sizes = (1_000, 10_000) if quick else (10_000, 100_000)
    out: dict[str, Any] = {}
    made = 0
    now = datetime.now(UTC)
    for target in sizes:
        with store.engine.begin() as conn:
            while made < target:
                batch = min(2_000, target - made)
                ids = [uuid.uuid4().hex for _ in range(batch)]
                conn.execute(
                    insert(SessionRow),
                    [
                        {
                            "id": sid,
                            "scenario_id": template_session.scenario_id,
                            "content_hash": template_session.content_hash,
                            "token_hash": template_session.token_hash,
                            "status": "active",
                            "state": template_session.state,
                            "revision": 3,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for sid in ids
                    ],
                )
                conn.execute(
                    insert(TurnRow),
                    [
                        {
                            "session_id": sid,
                            "seq": seq,
                            "attempt": 1,
                            "node": template_turn.node,
                            "text": template_turn.text,
                            "evaluation": template_turn.evaluation,
                            "feedback": template_turn.feedback,
                            "branch_index": template_turn.branch_index,
                            "next_node": template_turn.next_node,
                            "state_before": template_turn.state_before,
                            "state_after": template_turn.state_after,
                            "superseded": False,
                            "created_at": now,
                        }
                        for sid in ids
                        for seq in range(1, 11)
                    ],
                )
                made += batch
        transcript = time_calls(lambda: service.transcript(probe.session_id, probe.token), 100)
        report = time_calls(lambda: service.report(probe.session_id, probe.token), 100)
        out[f"{target} sessions / {store.count('turns')} turns"] = {
            "transcript": percentiles(transcript),
            "report": percentiles(report),
        }
    store.close()
    return out


def bench_startup(workdir: Path) -> dict[str, Any]:
    generated = workdir / "many"
    (generated / "scenarios").mkdir(parents=True)
    shutil.copytree(ROOT / "rubrics", generated / "rubrics")
    sources = sorted((ROOT / "scenarios").glob("*.yaml"))
    for index in range(1000):
        source = sources[index % len(sources)]
        data = yaml.safe_load(source.read_text())
        data["id"] = f"{data['id']}-{index}"
        (generated / "scenarios" / f"{data['id']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    out: dict[str, dict[str, float]] = {}
    for name, folder in (("bundled", ROOT), ("1000 generated", generated)):
        env = coach_env(f"sqlite:///{workdir / f'start-{len(out)}.db'}")
        env["COACH_SCENARIOS_DIR"] = str(folder / "scenarios")
        env["COACH_RUBRICS_DIR"] = str(folder / "rubrics")
        with server([COACH, "serve"], env, "/healthz") as (_port, process, seconds):
            out[name] = {"startup_s": round(seconds, 2), "rss_mb": rss_mb(process.pid)}
    return out


# -- report ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {
            p: metadata.version(p)
            for p in ("coach", "fastapi", "uvicorn", "pydantic", "sqlalchemy", "psycopg")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Shorter runs, smaller database.")
    parser.add_argument("--only", choices=["evaluator", "http", "scale", "startup"], action="append")
    args = parser.parse_args()
    wanted = set(args.only or ["evaluator", "http", "scale", "startup"])
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    previous = ROOT / "bench" / "results.json"
    if args.only and previous.exists():
        # A partial run keeps the other sections' figures from the last full run.
        results = {**json.loads(previous.read_text()), **results}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if "evaluator" in wanted:
            print("evaluator…", flush=True)
            results["evaluator"] = bench_evaluator(args.quick)
        if "http" in wanted:
            print("http…", flush=True)
            results["http"] = bench_http(args.quick, workdir)
        if "scale" in wanted:
            print("scale…", flush=True)
            results["scale"] = bench_scale(args.quick, workdir)
        if "startup" in wanted:
            print("startup…", flush=True)
            results["startup"] = bench_startup(workdir)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    from bench.report import write_report

    write_report(results, ROOT / "docs" / "benchmarks.md")
    print("wrote docs/benchmarks.md and bench/results.json")


if __name__ == "__main__":
    main()
