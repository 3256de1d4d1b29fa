"""Session use cases: start, submit a turn, retry a turn, read the transcript, build the report.

Services orchestrate the domain (evaluate, advance, feedback, debrief) and the store; they
know nothing of HTTP. Every reply is evaluated against the scenario version the session
was pinned to when it started.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from coach.authoring.library import ContentLibrary, criteria_of, snapshot
from coach.domain.debrief import Debrief, TurnRecord, build_debrief
from coach.domain.engine import Play, SessionState
from coach.domain.evaluation import Evaluation
from coach.domain.feedback import Feedback, build_feedback
from coach.domain.scenario import Ending, Scenario
from coach.errors import InvalidToken, ReplyEmpty, ReplyTooLong, SessionFinished
from coach.store.repository import Store, StoredSession, StoredTurn

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    session_id: str
    token: str
    scenario: Scenario
    state: SessionState
    client: tuple[str, ...]


@dataclass(frozen=True)
class TurnResult:
    seq: int
    attempt: int
    text: str
    evaluation: Evaluation
    feedback: Feedback
    client: tuple[str, ...]
    """The client's next line(s), or their closing line at an ending."""
    node: str
    ending: Ending | None
    state: SessionState
    turn_limit_reached: bool = False


@dataclass(frozen=True)
class TranscriptTurn:
    seq: int
    attempt: int
    node: str
    client: tuple[str, ...]
    """What the client said before this reply."""
    text: str
    evaluation: Evaluation
    feedback: Feedback
    superseded: bool
    created_at: datetime


@dataclass(frozen=True)
class Transcript:
    session_id: str
    scenario: Scenario
    content_hash: str
    status: str
    state: SessionState
    turns: tuple[TranscriptTurn, ...]
    client: tuple[str, ...]
    """The client's current line(s): what the trainee answers next, or the closing line."""
    ending: Ending | None
    created_at: datetime
    updated_at: datetime


class SessionService:
    def __init__(
        self,
        library: ContentLibrary,
        store: Store,
        *,
        max_reply_chars: int = 2000,
        clock: Clock = utcnow,
    ) -> None:
        self.library = library
        self.store = store
        self.max_reply_chars = max_reply_chars
        self.clock = clock

    # -- helpers -------------------------------------------------------------------------

    def _authorise(self, session_id: str, token: str | None) -> StoredSession:
        stored = self.store.get_session(session_id)
        if not token or not hmac.compare_digest(stored.token_hash, hash_token(token)):
            raise InvalidToken("the session token is missing or does not belong to this session")
        return stored

    def _play(self, stored: StoredSession) -> Play:
        current = self.library.plays.get(stored.scenario_id)
        if current is not None and current.hash == stored.content_hash:
            return current
        return self.library.pinned(stored.content_hash, self.store.scenario_body(stored.content_hash))

    def check_reply(self, text: str) -> str:
        if not text.strip():
            raise ReplyEmpty("the reply is empty; write what you would say to the client")
        if len(text) > self.max_reply_chars:
            raise ReplyTooLong(f"the reply has {len(text)} characters; the limit is {self.max_reply_chars}")
        return text

    # -- use cases -----------------------------------------------------------------------

    def start(self, scenario_id: str) -> Started:
        play = self.library.play(scenario_id)
        now = self.clock()
        self.store.pin_scenario(
            play.hash, play.scenario.id, play.scenario.version, snapshot(play.scenario), now
        )
        token = secrets.token_urlsafe(32)
        state = play.start()
        session_id = uuid.uuid4().hex
        self.store.create_session(
            session_id, play.scenario.id, play.hash, hash_token(token), state.to_json(), now
        )
        return Started(
            session_id=session_id,
            token=token,
            scenario=play.scenario,
            state=state,
            client=play.node(state.node).client,
        )

    def submit(self, session_id: str, token: str | None, text: str) -> TurnResult:
        stored = self._authorise(session_id, token)
        text = self.check_reply(text)
        if stored.status == "finished":
            raise SessionFinished("this session has reached its ending; start a new one to play again")
        play = self._play(stored)
        state = SessionState.from_json(stored.state)
        seq = state.turn + 1
        return self._answer(play, stored, state, text, seq=seq, attempt=1, supersede=False)

    def retry(self, session_id: str, token: str | None, text: str) -> TurnResult:
        """Take the last answered turn back and answer it again; both attempts are kept."""
        stored = self._authorise(session_id, token)
        text = self.check_reply(text)
        turns = [t for t in self.store.turns(session_id) if not t.superseded]
        if not turns:
            raise SessionFinished("there is no answered turn to take back yet")
        last = turns[-1]
        play = self._play(stored)
        before = SessionState.from_json(last.state_before)
        attempts = [t.attempt for t in self.store.turns(session_id) if t.seq == last.seq]
        return self._answer(
            play, stored, before, text, seq=last.seq, attempt=max(attempts) + 1, supersede=True
        )

    def _answer(
        self,
        play: Play,
        stored: StoredSession,
        state: SessionState,
        text: str,
        *,
        seq: int,
        attempt: int,
        supersede: bool,
    ) -> TurnResult:
        node = play.node(state.node)
        evaluation = play.evaluate(state, text)
        step = play.advance(state, evaluation)
        feedback = build_feedback(
            evaluation,
            self.library.rubrics,
            criteria_of(play, self.library),
            node.focus,
            node.tips,
            step.branch.note,
        )
        after = step.after
        target = play.node(after.node)
        self.store.record_turn(
            stored,
            StoredTurn(
                seq=seq,
                attempt=attempt,
                node=state.node,
                text=text,
                evaluation=evaluation.model_dump(mode="json"),
                feedback=feedback.model_dump(mode="json"),
                branch_index=step.branch_index,
                next_node=after.node,
                state_before=state.to_json(),
                state_after=after.to_json(),
                superseded=False,
                created_at=self.clock(),
            ),
            status="finished" if after.finished else "active",
            supersede=supersede,
            now=self.clock(),
        )
        return TurnResult(
            seq=seq,
            attempt=attempt,
            text=text,
            evaluation=evaluation,
            feedback=feedback,
            client=target.client,
            node=after.node,
            ending=target.ending,
            state=after,
            turn_limit_reached=step.turn_limit_reached,
        )

    def transcript(self, session_id: str, token: str | None) -> Transcript:
        stored = self._authorise(session_id, token)
        play = self._play(stored)
        state = SessionState.from_json(stored.state)
        turns = tuple(
            TranscriptTurn(
                seq=t.seq,
                attempt=t.attempt,
                node=t.node,
                client=play.node(t.node).client if t.node in play.scenario.nodes else (),
                text=t.text,
                evaluation=Evaluation.model_validate(t.evaluation),
                feedback=Feedback.model_validate(t.feedback),
                superseded=t.superseded,
                created_at=t.created_at,
            )
            for t in self.store.turns(session_id)
        )
        current = play.node(state.node)
        return Transcript(
            session_id=stored.id,
            scenario=play.scenario,
            content_hash=stored.content_hash,
            status=stored.status,
            state=state,
            turns=turns,
            client=current.client,
            ending=current.ending,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
        )

    def report(self, session_id: str, token: str | None) -> Debrief:
        transcript = self.transcript(session_id, token)
        play = self._play(self.store.get_session(session_id))
        records = [
            TurnRecord(
                index=t.seq,
                node=t.node,
                focus=play.node(t.node).focus if t.node in play.scenario.nodes else (),
                text=t.text,
                evaluation=t.evaluation,
                superseded=t.superseded,
            )
            for t in transcript.turns
        ]
        return build_debrief(
            play.scenario,
            self.library.rubrics,
            criteria_of(play, self.library),
            records,
            transcript.state.path,
            transcript.state.node if transcript.ending else None,
        )


def evaluate_text(library: ContentLibrary, text: str) -> dict[str, Any]:
    """Stateless evaluation against every rubric, in the contract's shape."""
    return library.evaluator.evaluate(text).contract()
