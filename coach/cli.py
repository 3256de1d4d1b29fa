"""The ``coach`` command: serve, validate, evaluate, play, calibrate, db.

Exit codes scripts can trust: 0 ok, 1 findings or failure, 2 usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from coach.authoring.library import ContentLibrary, Severity, lint, load_library, load_rubric_library
from coach.cli_lti import Format, FormatOption, err, lti_app, open_store, out, outbox_app
from coach.config import Settings
from coach.domain.calibration import VERDICTS, calibrate
from coach.domain.feedback import PointKind, build_feedback
from coach.domain.rubric import Verdict
from coach.errors import CoachError, ContentError
from coach.store.repository import Store

if TYPE_CHECKING:
    from coach.services.access import Integrator
    from coach.services.learners import Learners

app = typer.Typer(
    help="Coach: practise hard peer-support conversations with rubric-based coaching.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")
keys_app = typer.Typer(help="Integrator API keys (one tenant each).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
learner_app = typer.Typer(help="One learner's data: export or delete.", no_args_is_help=True)
app.add_typer(learner_app, name="learner")
app.add_typer(lti_app, name="lti")
app.add_typer(outbox_app, name="outbox")


def _settings() -> Settings:
    return Settings()


def _library(settings: Settings, *, rubrics_only: bool = False, serving: bool = False) -> ContentLibrary:
    try:
        if rubrics_only:
            return load_rubric_library(settings.rubrics_dir)
        return load_library(settings.scenarios_dir, settings.rubrics_dir, run_tests=not serving)
    except ContentError as exc:
        err.print(f"[red]{escape(exc.detail)}[/red]")
        raise typer.Exit(1) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", envvar="PORT")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the chat page and the API."""
    import uvicorn

    settings = _settings()
    _library(settings, serving=True)  # fail fast, with file:line messages, before binding the port
    out.print(f"Coach on http://{host}:{port}  (database: {settings.database_url})")
    uvicorn.run(
        "coach.api.factory:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
    )


@app.command()
def validate(
    fmt: FormatOption = Format.TEXT,
    stats: Annotated[bool, typer.Option("--stats", help="Also report per-scenario statistics.")] = False,
) -> None:
    """Check every scenario and rubric: schema, references, graph, walkthroughs, rubric examples."""
    from coach.authoring.stats import library_stats

    settings = _settings()
    library, findings = lint(settings.scenarios_dir, settings.rubrics_dir)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    table = library_stats(library) if stats and library is not None else []
    if fmt is Format.JSON:
        body: dict[str, object] = {"ok": not errors, "findings": [f.to_json() for f in findings]}
        if stats:
            body["stats"] = [row.to_json() for row in table]
        print(json.dumps(body, indent=2))
    else:
        if table:
            grid = Table(title="Scenarios")
            for column in [
                "scenario",
                "nodes",
                "endings",
                "decision points",
                "best scores",
                "nodes covered",
                "endings covered",
            ]:
                grid.add_column(column)
            for row in table:
                best = ", ".join(
                    f"{d} {'—' if v is None else f'{v:.2f}'}" for d, v in row.best_scores.items()
                )
                grid.add_row(
                    row.scenario,
                    str(row.nodes),
                    str(row.endings),
                    str(row.decision_points),
                    best,
                    f"{row.node_coverage:.0%}",
                    f"{row.ending_coverage:.0%}",
                )
            out.print(grid)
        for finding in findings:
            colour = "red" if finding.severity is Severity.ERROR else "yellow"
            out.print(f"[{colour}]{escape(str(finding))}[/{colour}]")
        scenarios = len(library.plays) if library else 0
        rubrics = len(library.rubrics) if library else 0
        verdict = "[red]failed[/red]" if errors else "[green]ok[/green]"
        out.print(
            f"{verdict}: {scenarios} scenarios, {rubrics} rubrics, {len(errors)} errors, "
            f"{len(findings) - len(errors)} warnings"
        )
    raise typer.Exit(1 if errors else 0)


@app.command()
def evaluate(
    text: Annotated[str | None, typer.Argument(help="The reply to evaluate.")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help='Read {"id", "text"} JSON lines on stdin.')] = False,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Evaluate a reply against every rubric (no scenario context)."""
    library = _library(_settings(), rubrics_only=True)
    if jsonl:
        failures = 0
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise ValueError('expected an object with a "text" string')
            except ValueError as exc:
                err.print(f"stdin:{number}: {exc}")
                failures += 1
                continue
            result = {"id": item.get("id"), **library.evaluator.evaluate(item["text"]).contract()}
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        raise typer.Exit(1 if failures else 0)
    if text is None:
        err.print("give a reply to evaluate, or --jsonl to read JSON lines on stdin")
        raise typer.Exit(2)
    evaluation = library.evaluator.evaluate(text)
    if fmt is Format.JSON:
        print(json.dumps(evaluation.contract(), ensure_ascii=False, indent=2))
        return
    feedback = build_feedback(evaluation, library.rubrics, library.criteria, focus=list(library.rubrics))
    _print_feedback(text, feedback.model_dump(mode="json"), evaluation.contract())


def _print_feedback(text: str, feedback: dict[str, object], contract: dict[str, object]) -> None:
    dims = contract["dimensions"]
    assert isinstance(dims, dict)
    table = Table(show_header=True, header_style="bold")
    table.add_column("dimension")
    table.add_column("verdict")
    table.add_column("score", justify="right")
    colours = {"met": "green", "violated": "red", "absent": "yellow"}
    for name, result in dims.items():
        verdict = result["verdict"]
        table.add_row(name, f"[{colours[verdict]}]{verdict}[/]", f"{result['score']:.2f}")
    out.print(table)
    points = feedback["points"]
    assert isinstance(points, list)
    for point in points:
        kind = point["kind"]
        mark = {
            PointKind.STRENGTH: "[green]✓[/]",
            PointKind.CONCERN: "[red]![/]",
            PointKind.TIP: "[cyan]→[/]",
        }[PointKind(kind)]
        words = ", ".join(f"“{e['text']}”" for e in point["evidence"])
        out.print(f"{mark} [bold]{point['label']}[/bold]" + (f"  {words}" if words else ""))
        out.print(f"    {point['message']}")
        if point.get("better"):
            out.print(f"    [dim]Try:[/dim] {point['better']}")
        out.print(f"    [dim]Standard: {point['standard']}[/dim]")
    note = feedback.get("note")
    if note:
        out.print(f"[italic]{note}[/italic]")


@app.command()
def play(
    scenario: Annotated[str, typer.Argument(help="Scenario id (see `coach scenarios`).")],
) -> None:
    """Play a scenario in the terminal, with feedback after every reply."""
    from coach.services.sessions import SessionService

    settings = _settings()
    library = _library(settings, serving=True)
    store = Store(settings.database_url)
    try:
        store.upgrade()
        service = SessionService(library, store, max_reply_chars=settings.max_reply_chars)
        started = service.start(scenario)
        persona = started.scenario.persona
        out.print(f"[bold]{started.scenario.title}[/bold]  —  {persona.name}: {persona.background}")
        if started.scenario.setting:
            out.print(f"[dim]{started.scenario.setting}[/dim]")
        for line in started.client:
            out.print(f"[bold magenta]{persona.name}:[/] {line}")
        while True:
            try:
                reply = input("\nYou: ")
            except EOFError:
                out.print("\n[dim]Stopped. Your session is saved as " + started.session_id + "[/dim]")
                raise typer.Exit(0) from None
            try:
                result = service.submit(started.session_id, started.token, reply)
            except CoachError as exc:
                err.print(f"[red]{escape(exc.detail)}[/red]")
                continue
            _print_feedback(reply, result.feedback.model_dump(mode="json"), result.evaluation.contract())
            for line in result.client:
                out.print(f"[bold magenta]{persona.name}:[/] {line}")
            if result.ending is not None:
                report = service.report(started.session_id, started.token)
                out.print(f"\n[bold]Ending: {result.ending.title}[/bold] ({result.ending.outcome.value})")
                out.print(result.ending.debrief)
                for dim in report.dimensions:
                    score = "—" if dim.score is None else f"{dim.score:.2f}"
                    counts = f"met {dim.met}, violated {dim.violated}, missed {dim.absent}"
                    out.print(f"  {dim.title}: {score}  ({counts})")
                out.print(f"  Path: {' > '.join(report.path)}")
                return
    except CoachError as exc:
        err.print(f"[red]{escape(exc.detail)}[/red]")
        raise typer.Exit(1) from exc
    finally:
        store.close()


@app.command()
def scenarios(fmt: FormatOption = Format.TEXT) -> None:
    """List the scenarios."""
    library = _library(_settings())
    rows = [
        {"id": p.scenario.id, "title": p.scenario.title, "minutes": p.scenario.minutes}
        for p in sorted(library.plays.values(), key=lambda p: p.scenario.id)
    ]
    if fmt is Format.JSON:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        out.print(f"{row['id']:<32} {row['title']} (~{row['minutes']} min)")


@app.command(name="calibrate")
def calibrate_command(
    file: Annotated[Path, typer.Argument(help="JSON lines with id, text and labels per dimension.")],
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Compare the evaluator with labelled replies: confusion matrices, P/R/F1, disagreements."""
    library = _library(_settings(), rubrics_only=True)
    dims = list(library.rubrics)
    pairs = []
    disagreements = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        err.print(f"cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            expected = {d: Verdict(row["labels"][d]) for d in dims if d in row["labels"]}
        except (ValueError, KeyError, TypeError) as exc:
            err.print(f"{file}:{number}: not a labelled reply ({exc})")
            raise typer.Exit(1) from exc
        evaluation = library.evaluator.evaluate(row["text"])
        predicted = {d: evaluation.dimensions[d].verdict for d in dims}
        pairs.append((expected, predicted))
        for d in expected:
            if expected[d] is not predicted[d]:
                disagreements.append(
                    {
                        "id": row.get("id"),
                        "dimension": d,
                        "expected": expected[d].value,
                        "got": predicted[d].value,
                        "text": row["text"],
                        "evidence": [
                            {"criterion": m.criterion, "text": m.text}
                            for m in evaluation.matches
                            if m.dimension == d
                        ],
                    }
                )
    results = calibrate(pairs, dims)
    if fmt is Format.JSON:
        print(
            json.dumps(
                {
                    "replies": len(pairs),
                    "dimensions": {
                        d: {
                            "accuracy": round(c.accuracy, 4),
                            "macro_f1": c.macro_f1,
                            "confusion": {
                                e.value: {p.value: n for p, n in row.items()}
                                for e, row in c.confusion.items()
                            },
                            "verdicts": {v.value: c.scores(v).__dict__ for v in VERDICTS},
                        }
                        for d, c in results.items()
                    },
                    "disagreements": disagreements,
                },
                indent=2,
            )
        )
        return
    for d, c in results.items():
        table = Table(title=f"{d}: accuracy {c.accuracy:.3f}, macro-F1 {c.macro_f1:.3f}")
        table.add_column("expected \\ got")
        for v in VERDICTS:
            table.add_column(v.value, justify="right")
        table.add_column("precision", justify="right")
        table.add_column("recall", justify="right")
        table.add_column("F1", justify="right")
        for e in VERDICTS:
            s = c.scores(e)
            table.add_row(
                e.value,
                *[str(c.confusion[e][p]) for p in VERDICTS],
                f"{s.precision:.3f}",
                f"{s.recall:.3f}",
                f"{s.f1:.3f}",
            )
        out.print(table)
    out.print(f"\n[bold]{len(disagreements)} disagreements[/bold]")
    for item in disagreements:
        evidence = "; ".join(f"{e['criterion']}: “{e['text']}”" for e in item["evidence"]) or "no evidence"
        verdicts = f"expected {item['expected']}, got {item['got']}"
        out.print(f"{item['id']} [{item['dimension']}] {verdicts}: {item['text']}")
        out.print(f"    [dim]{evidence}[/dim]")


class GraphFormat(StrEnum):
    MERMAID = "mermaid"
    DOT = "dot"
    SVG = "svg"


@app.command()
def graph(
    scenario: Annotated[str, typer.Argument(help="Scenario id.")],
    fmt: Annotated[GraphFormat, typer.Option("--format", help="mermaid, dot or svg.")] = GraphFormat.MERMAID,
    session: Annotated[str | None, typer.Option(help="Highlight the path this session took.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Draw a scenario: endings by outcome, fallbacks dashed, a session's path highlighted."""
    from coach.authoring.graphs import RENDERERS

    settings = _settings()
    library = _library(settings, serving=True)
    try:
        play_ = library.play(scenario)
        path: tuple[str, ...] = ()
        if session:
            store = Store(settings.database_url)
            try:
                stored = store.get_session(session)
                if stored.content_hash != play_.hash:
                    play_ = library.pinned(stored.content_hash, store.scenario_body(stored.content_hash))
            finally:
                store.close()
            path = tuple(stored.state.get("path", ()))
    except CoachError as exc:
        err.print(f"[red]{escape(exc.detail)}[/red]")
        raise typer.Exit(1) from exc
    text = RENDERERS[fmt.value](play_.scenario, path)
    if output:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


@app.command()
def schema(
    folder: Annotated[Path, typer.Option("--out", help="Folder for the schema files.")] = Path("schemas"),
) -> None:
    """Write JSON Schema for scenario and rubric files (the YAML files point to them)."""
    from coach.authoring.schema import write_schemas

    for path in write_schemas(folder):
        out.print(f"wrote {path}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration."""

    settings = _settings()
    store = Store(settings.database_url)
    try:
        store.upgrade()
    except CoachError as exc:
        err.print(f"[red]{escape(exc.detail)}[/red]")
        raise typer.Exit(1) from exc
    finally:
        store.close()
    out.print("database is up to date")


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="The tenant the key acts for.")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'moodle-prod'.")],
    fmt: FormatOption = Format.TEXT,
) -> None:
    """Create an API key. The key is shown once; Coach keeps only its hash."""
    from coach.services.access import Access

    store = open_store(_settings())
    try:
        stored, key = Access(store).create_key(tenant, name)
    finally:
        store.close()
    if fmt is Format.JSON:
        print(json.dumps({"id": stored.id, "tenant": tenant, "name": name, "key": key}))
    else:
        out.print(f"API key for tenant [bold]{tenant}[/bold] ({name}), shown once:\n{key}")


@keys_app.command("list")
def keys_list(fmt: FormatOption = Format.TEXT) -> None:
    """List API keys (ids, tenants, names; never secrets)."""
    store = open_store(_settings())
    try:
        keys = store.api_keys()
    finally:
        store.close()
    rows = [
        {
            "id": k.id,
            "tenant": k.tenant,
            "name": k.name,
            "created_at": k.created_at.isoformat(),
            "revoked": k.revoked_at is not None,
        }
        for k in keys
    ]
    if fmt is Format.JSON:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        out.print(f"{row['id']}  {row['tenant']:<20} {row['name']:<24} {state}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (the part after ck_).")]) -> None:
    """Revoke an API key at once."""
    store = open_store(_settings())
    try:
        revoked = store.revoke_api_key(key_id, datetime.now(UTC))
    finally:
        store.close()
    if not revoked:
        err.print(f"no active key {key_id!r}")
        raise typer.Exit(1)
    out.print(f"revoked {key_id}")


@contextmanager
def _learners_of(tenant: str) -> Iterator[tuple[Learners, Integrator]]:
    """The learner service for one tenant, acting as that tenant's integrator."""
    from coach.services.access import Integrator
    from coach.services.learners import Learners
    from coach.services.sessions import SessionService

    settings = _settings()
    library = _library(settings, serving=True)
    store = open_store(settings)
    try:
        yield Learners(SessionService(library, store)), Integrator(key_id="cli", tenant=tenant)
    finally:
        store.close()


LearnerArgument = Annotated[str, typer.Argument(help="The integrator's learner id.")]
TenantOption = Annotated[str, typer.Option(help="The tenant the learner belongs to.")]


@learner_app.command("export")
def learner_export(learner: LearnerArgument, tenant: TenantOption) -> None:
    """Print everything held about one learner as JSON (transcripts, evaluations, reports)."""
    with _learners_of(tenant) as (learners, integrator):
        data = learners.export(integrator, learner)
    print(json.dumps(data, indent=2, ensure_ascii=False))


@learner_app.command("delete")
def learner_delete(learner: LearnerArgument, tenant: TenantOption) -> None:
    """Delete every session and turn of one learner."""
    with _learners_of(tenant) as (learners, integrator):
        count = learners.delete(integrator, learner)
    out.print(f"deleted {count} sessions of {learner}")


@app.command()
def purge(
    older_than: Annotated[
        int, typer.Option("--older-than", min=1, help="Days since a session last changed.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
) -> None:
    """Delete sessions (and their turns) untouched for more than DAYS days."""
    from rich.progress import Progress

    store = open_store(_settings())
    cutoff = datetime.now(UTC) - timedelta(days=older_than)
    deleted = 0
    try:
        if dry_run:
            ids = store.sessions_older_than(cutoff, limit=10_000_000)
            out.print(f"{len(ids)} sessions would be deleted")
            return
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("purging", total=None)
            while batch := store.sessions_older_than(cutoff):
                deleted += store.delete_sessions(batch)
                progress.update(task, completed=deleted)
    finally:
        store.close()
    out.print(f"deleted {deleted} sessions last changed before {cutoff:%Y-%m-%d}")


def main() -> None:
    app()
