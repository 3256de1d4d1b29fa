"""Session use cases: start, submit a turn, retry a turn, read the transcript, build the report.

Services orchestrate the domain (evaluate, advance, feedback, debrief) and the store; they
know nothing of HTTP. Every reply is evaluated against the scenario version the session
was pinned to when it started.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from coach.authoring.library import ContentLibrary, criteria_of, snapshot
from coach.domain.debrief import Debrief, TurnRecord, build_debrief
from coach.domain.engine import Play, SessionState
from coach.domain.evaluation import Evaluation
from coach.domain.events import (
    Event,
    OutboxMessage,
    SessionCompleted,
    SessionContext,
    SessionStarted,
    Sink,
    TurnRecorded,
)
from coach.domain.feedback import Feedback, build_feedback
from coach.domain.scenario import Ending, Scenario
from coach.errors import (
    IdempotencyKeyReused,
    ReplyEmpty,
    ReplyInvalid,
    ReplyTooLong,
    SessionFinished,
    TurnConflict,
)
from coach.services.access import Access, Integrator, hash_secret, utcnow
from coach.store.repository import Store, StoredSession, StoredTurn

Clock = Callable[[], datetime]


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
        anonymous_practice: bool = True,
        clock: Clock = utcnow,
        sinks: Sequence[Sink] = (),
    ) -> None:
        self.library = library
        self.store = store
        self.max_reply_chars = max_reply_chars
        self.anonymous_practice = anonymous_practice
        self.clock = clock
        self.access = Access(store, clock)
        self.sinks = list(sinks)

    def _messages(self, *events: Event) -> list[OutboxMessage]:
        return [message for event in events for sink in self.sinks for message in sink(event)]

    @staticmethod
    def _context(stored: StoredSession, scenario: Scenario) -> SessionContext:
        return SessionContext(
            session_id=stored.id,
            scenario_id=scenario.id,
            scenario_title=scenario.title,
            tenant=stored.tenant,
            learner=stored.learner,
            context=stored.context or {},
        )

    # -- helpers -------------------------------------------------------------------------

    def _authorise(self, session_id: str, token: str | None, *, read_only: bool = True) -> StoredSession:
        return self.access.open_session(session_id, token, allow_integrator=read_only)

    def _play(self, stored: StoredSession) -> Play:
        current = self.library.plays.get(stored.scenario_id)
        if current is not None and current.hash == stored.content_hash:
            return current
        return self.library.pinned(stored.content_hash, self.store.scenario_body(stored.content_hash))

    def check_reply(self, text: str) -> str:
        if any(ch < " " and ch not in "\t\n\r" for ch in text) or "\x7f" in text:
            raise ReplyInvalid("the reply contains control characters; send plain text")
        if not text.strip():
            raise ReplyEmpty("the reply is empty; write what you would say to the client")
        if len(text) > self.max_reply_chars:
            raise ReplyTooLong(
                f"the reply has {len(text)} characters; the limit is {self.max_reply_chars}",
                limit=self.max_reply_chars,
            )
        return text

    # -- use cases -----------------------------------------------------------------------

    def start(self, scenario_id: str, credential: str | None = None, learner: str | None = None) -> Started:
        """Start a session: anonymously (when allowed) or for an integrator's named learner."""
        integrator: Integrator | None = None
        if credential is not None or learner is not None or not self.anonymous_practice:
            integrator = self.access.integrator(credential)
        return self.start_for(
            scenario_id,
            tenant=integrator.tenant if integrator else None,
            learner=learner if integrator else None,
        )

    def start_for(
        self,
        scenario_id: str,
        *,
        tenant: str | None,
        learner: str | None,
        context: dict[str, Any] | None = None,
    ) -> Started:
        """Start a session for a caller the integration layer has already authenticated."""
        play = self.library.play(scenario_id)
        now = self.clock()
        self.store.pin_scenario(
            play.hash, play.scenario.id, play.scenario.version, snapshot(play.scenario), now
        )
        token = secrets.token_urlsafe(32)
        state = play.start()
        session_id = uuid.uuid4().hex
        started_context = SessionContext(
            session_id=session_id,
            scenario_id=play.scenario.id,
            scenario_title=play.scenario.title,
            tenant=tenant,
            learner=learner,
            context=context or {},
        )
        self.store.create_session(
            session_id,
            play.scenario.id,
            play.hash,
            hash_secret(token),
            state.to_json(),
            now,
            tenant=tenant,
            learner=learner,
            context=context,
            outbox=self._messages(SessionStarted(session=started_context, at=now)),
        )
        return Started(
            session_id=session_id,
            token=token,
            scenario=play.scenario,
            state=state,
            client=play.node(state.node).client,
        )

    def submit(
        self,
        session_id: str,
        token: str | None,
        text: str,
        idempotency_key: str | None = None,
        expected_turn: int | None = None,
    ) -> TurnResult:
        """Answer the current moment. With an Idempotency-Key, a retried request gets the
        turn the first one recorded instead of adding another; with ``expected_turn``, a reply
        meant for a moment that has already been answered is a conflict, not the next turn."""
        stored = self._authorise(session_id, token, read_only=False)
        text = self.check_reply(text)
        if idempotency_key:
            replay = self._replay(stored, idempotency_key, text)
            if replay is not None:
                return replay
        if stored.status == "finished":
            raise SessionFinished("this session has reached its ending; start a new one to play again")
        play = self._play(stored)
        state = SessionState.from_json(stored.state)
        if expected_turn is not None and expected_turn != state.turn + 1:
            raise TurnConflict(
                f"turn {expected_turn} was already answered; the session is at turn {state.turn + 1}"
            )
        try:
            return self._answer(
                play, stored, state, text, seq=state.turn + 1, attempt=1, supersede=False, key=idempotency_key
            )
        except TurnConflict:
            # Two copies of one request raced: the loser answers with the winner's turn.
            replay = self._replay(stored, idempotency_key, text) if idempotency_key else None
            if replay is None:
                raise
            return replay

    def _replay(self, stored: StoredSession, key: str, text: str) -> TurnResult | None:
        turn = self.store.turn_for_key(stored.id, key)
        if turn is None:
            return None
        if turn.text != text:
            raise IdempotencyKeyReused("this Idempotency-Key was already used with a different reply")
        play = self._play(stored)
        after = SessionState.from_json(turn.state_after)
        target = play.node(after.node)
        intended = play.node(turn.node).branches[turn.branch_index].goto
        return TurnResult(
            seq=turn.seq,
            attempt=turn.attempt,
            text=turn.text,
            evaluation=Evaluation.model_validate(turn.evaluation),
            feedback=Feedback.model_validate(turn.feedback),
            client=target.client,
            node=after.node,
            ending=target.ending,
            state=after,
            turn_limit_reached=intended != after.node,
        )

    def retry(self, session_id: str, token: str | None, text: str) -> TurnResult:
        """Take the last answered turn back and answer it again; both attempts are kept."""
        stored = self._authorise(session_id, token, read_only=False)
        text = self.check_reply(text)
        turns = self.store.turns(session_id)
        answered = [t for t in turns if not t.superseded]
        if not answered:
            raise SessionFinished("there is no answered turn to take back yet")
        last = answered[-1]
        play = self._play(stored)
        before = SessionState.from_json(last.state_before)
        attempts = [t.attempt for t in turns if t.seq == last.seq]
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
        key: str | None = None,
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
        now = self.clock()
        events: list[Event] = []
        if self.sinks:
            context = self._context(stored, play.scenario)
            events.append(
                TurnRecorded(
                    session=context,
                    seq=seq,
                    attempt=attempt,
                    node=state.node,
                    text=text,
                    evaluation=evaluation,
                    at=now,
                )
            )
            if after.finished:
                events.append(
                    SessionCompleted(
                        session=context,
                        debrief=self._debrief_with(
                            play, stored, seq, state, text, evaluation, after, supersede
                        ),
                        at=now,
                    )
                )
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
                idempotency_key=key,
            ),
            status="finished" if after.finished else "active",
            supersede=supersede,
            now=now,
            outbox=self._messages(*events),
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

    def _debrief_with(
        self,
        play: Play,
        stored: StoredSession,
        seq: int,
        state: SessionState,
        text: str,
        evaluation: Evaluation,
        after: SessionState,
        supersede: bool,
    ) -> Debrief:
        """The debrief as it will read once this turn is recorded (for the completion event)."""
        stored_turns = self.store.turns(stored.id)
        records = [
            replace(r, superseded=True) if supersede and r.index == seq else r
            for r in self._records(play, stored_turns)
        ]
        records.append(TurnRecord(seq, state.node, play.node(state.node).focus, text, evaluation))
        return self._debrief(play, records, after)

    @staticmethod
    def _records(play: Play, turns: Sequence[StoredTurn]) -> list[TurnRecord]:
        return [
            TurnRecord(
                index=t.seq,
                node=t.node,
                focus=play.node(t.node).focus if t.node in play.scenario.nodes else (),
                text=t.text,
                evaluation=Evaluation.model_validate(t.evaluation),
                superseded=t.superseded,
            )
            for t in turns
        ]

    def _debrief(self, play: Play, records: list[TurnRecord], state: SessionState) -> Debrief:
        ending = state.node if play.node(state.node).is_ending else None
        return build_debrief(
            play.scenario, self.library.rubrics, criteria_of(play, self.library), records, state.path, ending
        )

    def transcript(self, session_id: str, token: str | None) -> Transcript:
        return self.transcript_of(self._authorise(session_id, token))

    def transcript_of(self, stored: StoredSession) -> Transcript:
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
            for t in self.store.turns(stored.id)
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
        return self.report_of(self._authorise(session_id, token))

    def report_of(self, stored: StoredSession) -> Debrief:
        play = self._play(stored)
        records = self._records(play, self.store.turns(stored.id))
        return self._debrief(play, records, SessionState.from_json(stored.state))
