"""The `coach` command, run as a real process the way authors and scripts run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, ROOT

COACH = str(Path(sys.executable).parent / "coach")


def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "COACH_SCENARIOS_DIR": str(FIXTURES / "scenarios"),
        "COACH_RUBRICS_DIR": str(FIXTURES / "rubrics"),
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [COACH, *args], input=stdin, capture_output=True, text=True, env=environment, cwd=cwd, timeout=120
    )


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ["serve", "validate", "evaluate", "play", "calibrate", "db"]:
        assert command in result.stdout


def test_evaluate_one_text_as_json() -> None:
    result = run("evaluate", "Just stop drinking.", "--format", "json")
    assert result.returncode == 0
    body = json.loads(result.stdout)
    assert body["dimensions"]["autonomy"]["verdict"] == "violated"


def test_evaluate_one_text_for_people_shows_words_and_advice() -> None:
    result = run("evaluate", "Just stop drinking.")
    assert result.returncode == 0
    assert "Just stop" in result.stdout
    assert "What would you like to do?" in result.stdout


def test_evaluate_jsonl_writes_one_contract_line_per_input_line() -> None:
    lines = [
        {"id": "a", "text": "It's your call."},
        {"id": 7, "text": "I won't tell anyone, no matter what."},
    ]
    result = run("evaluate", "--jsonl", stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 7]
    assert set(out[0]) == {"id", "dimensions", "matches", "critical"}
    assert out[1]["critical"] == ["keeps-secret"]
    assert out[1]["matches"][0] == {
        "criterion": "keeps-secret",
        "dimension": "boundaries",
        "polarity": "concern",
        "start": 2,
        "end": 19,
        "text": "won't tell anyone",
    }


def test_evaluate_jsonl_reports_bad_lines_and_goes_on() -> None:
    result = run("evaluate", "--jsonl", stdin='{"id": 1, "text": "your call"}\nnot json\n{"id": 2}\n')
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    assert "stdin:2" in result.stderr
    assert "stdin:3" in result.stderr


def test_validate_passes_on_good_content_and_fails_with_file_line_on_bad(tmp_path: Path) -> None:
    assert run("validate").returncode == 0
    shutil.copytree(FIXTURES, tmp_path / "content")
    scenario = tmp_path / "content" / "scenarios" / "tiny.yaml"
    scenario.write_text(scenario.read_text().replace("goto: pushback, note", "goto: nowhere, note"))
    env = {
        "COACH_SCENARIOS_DIR": str(tmp_path / "content" / "scenarios"),
        "COACH_RUBRICS_DIR": str(tmp_path / "content" / "rubrics"),
    }
    result = run("validate", env=env)
    assert result.returncode == 1
    assert "tiny.yaml:" in result.stdout
    assert "nowhere" in result.stdout
    as_json = json.loads(run("validate", "--format", "json", env=env).stdout)
    assert as_json["ok"] is False
    assert as_json["findings"][0]["line"] > 0


def test_play_a_scenario_in_the_terminal(tmp_path: Path) -> None:
    result = run(
        "play",
        "tiny",
        stdin="It's your call.\nI can't accept the watch, thank you.\n",
        env={"COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'play.db'}"},
    )
    assert result.returncode == 0, result.stderr
    assert "Just tell me what to do." in result.stdout
    assert "Ending: Straight and kind" in result.stdout
    assert "ask > gift > good" in result.stdout


def test_calibrate_prints_matrices_and_disagreements(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(
        json.dumps(
            {"id": "ok", "text": "It's your call.", "labels": {"autonomy": "met", "boundaries": "absent"}}
        )
        + "\n"
        + json.dumps(
            {"id": "off", "text": "Go for a walk.", "labels": {"autonomy": "absent", "boundaries": "absent"}}
        )
        + "\n"
    )
    result = run("calibrate", str(labelled), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["replies"] == 2
    assert report["dimensions"]["autonomy"]["confusion"]["absent"]["violated"] == 1
    assert [d["id"] for d in report["disagreements"]] == ["off"]
    text = run("calibrate", str(labelled)).stdout
    assert "macro-F1" in text
    assert "off" in text


def test_db_upgrade_and_usage_errors(tmp_path: Path) -> None:
    assert run("db", "upgrade", env={"COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}).returncode == 0
    assert (tmp_path / "x.db").exists()
    assert run("evaluate").returncode == 2
    assert run("no-such-command").returncode == 2


def test_keys_learners_and_purge_from_the_command_line(tmp_path: Path) -> None:
    env = {"COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'ops.db'}"}
    created = json.loads(
        run("keys", "create", "--tenant", "college-a", "--name", "moodle", "--format", "json", env=env).stdout
    )
    assert created["key"].startswith("ck_")
    listed = json.loads(run("keys", "list", "--format", "json", env=env).stdout)
    assert [(k["id"], k["revoked"]) for k in listed] == [(created["id"], False)]
    assert "ck_" not in run("keys", "list", env=env).stdout  # secrets are never shown again

    from coach.authoring.library import load_library
    from coach.services.sessions import SessionService
    from coach.store.repository import Store

    store = Store(env["COACH_DATABASE_URL"])
    service = SessionService(load_library(FIXTURES / "scenarios", FIXTURES / "rubrics"), store)
    started = service.start("tiny", created["key"], "ana")
    service.submit(started.session_id, started.token, "It's your call.")
    store.close()

    exported = json.loads(run("learner", "export", "ana", "--tenant", "college-a", env=env).stdout)
    assert exported["sessions"][0]["turns"][0]["text"] == "It's your call."
    other = json.loads(run("learner", "export", "ana", "--tenant", "college-b", env=env).stdout)
    assert other["sessions"] == []
    assert "would be deleted" in run("purge", "--older-than", "1", "--dry-run", env=env).stdout
    assert "deleted 0 sessions" in run("purge", "--older-than", "1", env=env).stdout
    assert (
        "deleted 1 sessions of ana"
        in run("learner", "delete", "ana", "--tenant", "college-a", env=env).stdout
    )

    assert run("keys", "revoke", created["id"], env=env).returncode == 0
    assert run("keys", "revoke", created["id"], env=env).returncode == 1
