"""Session use cases, on both databases: start, answer, retry, transcript, report, pinning."""

from __future__ import annotations

import pytest

from coach.authoring.library import ContentLibrary
from coach.errors import InvalidToken, ReplyEmpty, ReplyTooLong, SessionFinished, TurnConflict
from coach.services.sessions import SessionService
from coach.store.repository import Store


@pytest.fixture
def service(tiny_library: ContentLibrary, store: Store) -> SessionService:
    return SessionService(tiny_library, store, max_reply_chars=200)


def test_a_whole_session_from_start_to_report(service: SessionService) -> None:
    started = service.start("tiny")
    assert started.client == ("Just tell me what to do.",)
    first = service.submit(started.session_id, started.token, "It's your call.")
    assert first.client == ("I got you this watch.",)
    last = service.submit(started.session_id, started.token, "I can't accept the watch, thank you.")
    assert last.ending is not None
    assert last.ending.title == "Straight and kind"
    transcript = service.transcript(started.session_id, started.token)
    assert [t.text for t in transcript.turns] == ["It's your call.", "I can't accept the watch, thank you."]
    assert transcript.turns[1].client == ("I got you this watch.",)
    report = service.report(started.session_id, started.token)
    assert report.passed
    assert report.path == ("ask", "gift", "good")


def test_tokens_are_stored_only_as_hashes_and_scope_to_one_session(
    service: SessionService, store: Store
) -> None:
    one, two = service.start("tiny"), service.start("tiny")
    assert store.get_session(one.session_id).token_hash != one.token
    assert one.token not in str(store.get_session(one.session_id))
    with pytest.raises(InvalidToken):
        service.submit(one.session_id, two.token, "It's your call.")
    with pytest.raises(InvalidToken):
        service.transcript(one.session_id, None)


def test_replies_that_are_empty_or_too_long_are_refused_and_change_nothing(
    service: SessionService, store: Store
) -> None:
    started = service.start("tiny")
    with pytest.raises(ReplyEmpty):
        service.submit(started.session_id, started.token, "   \n")
    with pytest.raises(ReplyTooLong):
        service.submit(started.session_id, started.token, "x" * 201)
    assert store.turns(started.session_id) == []


def test_a_finished_session_takes_no_more_turns(service: SessionService) -> None:
    started = service.start("tiny")
    service.submit(started.session_id, started.token, "It's your call.")
    service.submit(started.session_id, started.token, "I can't accept the watch.")
    with pytest.raises(SessionFinished):
        service.submit(started.session_id, started.token, "One more thing")


def test_retry_replays_the_moment_and_keeps_both_attempts(service: SessionService) -> None:
    started = service.start("tiny")
    first = service.submit(started.session_id, started.token, "Just quit.")
    assert first.node == "pushback"
    again = service.retry(started.session_id, started.token, "It's your call.")
    assert (again.seq, again.attempt, again.node) == (1, 2, "gift")
    transcript = service.transcript(started.session_id, started.token)
    assert [(t.text, t.superseded) for t in transcript.turns] == [
        ("Just quit.", True),
        ("It's your call.", False),
    ]
    report = service.report(started.session_id, started.token)
    assert report.retries[0].before < report.retries[0].after


def test_a_stale_concurrent_submission_is_a_conflict(service: SessionService, store: Store) -> None:
    started = service.start("tiny")
    stale = store.get_session(started.session_id)
    service.submit(started.session_id, started.token, "It's your call.")
    play = service.library.play("tiny")
    from coach.domain.engine import SessionState

    with pytest.raises(TurnConflict):
        service._answer(
            play, stale, SessionState.from_json(stale.state), "Just quit.", seq=1, attempt=1, supersede=False
        )
    assert len(store.turns(started.session_id)) == 1


def test_sessions_keep_playing_the_version_they_started_on(
    tiny_library: ContentLibrary, store: Store, service: SessionService
) -> None:
    started = service.start("tiny")
    original = tiny_library.plays["tiny"]
    scenario = original.scenario
    edited_gift = scenario.nodes["gift"].model_copy(update={"client": ("Edited line.",)})
    edited = scenario.model_copy(update={"nodes": {**scenario.nodes, "gift": edited_gift}})
    from coach.domain.engine import Play

    tiny_library.plays["tiny"] = Play(edited, tiny_library.evaluator)
    try:
        result = service.submit(started.session_id, started.token, "It's your call.")
        assert result.client == ("I got you this watch.",)
        fresh = service.start("tiny")
        assert service.submit(fresh.session_id, fresh.token, "It's your call.").client == ("Edited line.",)
    finally:
        tiny_library.plays["tiny"] = original
