"""The scenario engine: from a state and an evaluated reply to the next state.

Content (:class:`Play`, built once per scenario version) is separate from the run state
(:class:`SessionState`: plain ids and numbers), so a session saves and loads by string ids
and can be resumed on any process holding the same content version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from coach.domain.conditions import Condition, TurnFacts, parse_condition
from coach.domain.evaluation import Evaluation
from coach.domain.evaluator import CompiledCriterion, Evaluator
from coach.domain.scenario import Branch, Node, Scenario
from coach.errors import EngineError

SAVE_FORMAT = 1


def content_hash(scenario: Scenario) -> str:
    """A stable hash of what a scenario says (not how its file is formatted)."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class SessionState:
    node: str
    variables: Mapping[str, int]
    turn: int = 0
    path: tuple[str, ...] = ()
    finished: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "format": SAVE_FORMAT,
            "node": self.node,
            "variables": dict(self.variables),
            "turn": self.turn,
            "path": list(self.path),
            "finished": self.finished,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SessionState:
        variables = data.get("variables", {})
        path = data.get("path", [])
        turn = data.get("turn", 0)
        if not isinstance(variables, dict) or not isinstance(path, list) or not isinstance(turn, int):
            raise EngineError("saved session state is malformed")
        return cls(
            node=str(data["node"]),
            variables={str(k): int(v) for k, v in variables.items()},
            turn=turn,
            path=tuple(str(p) for p in path),
            finished=bool(data.get("finished", False)),
        )


@dataclass(frozen=True)
class Step:
    """The result of one reply: which branch was taken and where the session now stands."""

    branch_index: int
    branch: Branch
    before: SessionState
    after: SessionState
    turn_limit_reached: bool = False


@dataclass
class Play:
    """A scenario compiled for playing: conditions parsed, node criteria compiled."""

    scenario: Scenario
    evaluator: Evaluator
    hash: str = ""
    conditions: dict[str, tuple[Condition, ...]] = field(default_factory=dict)
    extra_criteria: dict[str, tuple[CompiledCriterion, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.hash = self.hash or content_hash(self.scenario)
        for node_id, node in self.scenario.nodes.items():
            self.conditions[node_id] = tuple(parse_condition(b.when) for b in node.branches)
            compiled: list[CompiledCriterion] = []
            for criterion in node.criteria:
                compiled.extend(self.evaluator.compile_extra(criterion.dimension, [criterion]))
            self.extra_criteria[node_id] = tuple(compiled)

    def node(self, node_id: str) -> Node:
        try:
            return self.scenario.nodes[node_id]
        except KeyError:
            raise EngineError(f"scenario {self.scenario.id!r} has no node {node_id!r}") from None

    def start(self) -> SessionState:
        variables = {name: v.initial for name, v in self.scenario.variables.items()}
        return SessionState(node=self.scenario.start, variables=variables, path=(self.scenario.start,))

    def evaluate(self, state: SessionState, text: str) -> Evaluation:
        return self.evaluator.evaluate(
            text, extra=self.extra_criteria.get(state.node, ()), dimensions=self.scenario.dimensions
        )

    def advance(self, state: SessionState, evaluation: Evaluation) -> Step:
        if state.finished:
            raise EngineError("the session has already reached an ending")
        node = self.node(state.node)
        facts = TurnFacts(
            evaluation=evaluation, variables=state.variables, focus=node.focus, turn=state.turn + 1
        )
        for index, (branch, condition) in enumerate(
            zip(node.branches, self.conditions[state.node], strict=True)
        ):
            if condition(facts):
                return self._take(state, index, branch)
        raise EngineError(f"node {state.node!r} has no branch for this reply and no fallback")

    def _take(self, state: SessionState, index: int, branch: Branch) -> Step:
        variables = dict(state.variables)
        for name, value in branch.set.items():
            variables[name] = value
        for name, delta in branch.add.items():
            variables[name] = variables.get(name, 0) + delta
        for name, spec in self.scenario.variables.items():
            variables[name] = max(spec.min, min(spec.max, variables.get(name, spec.initial)))
        target = branch.goto
        turn = state.turn + 1
        limited = False
        limit = self.scenario.turn_limit
        if limit is not None and turn >= limit.turns and not self.node(target).is_ending:
            target, limited = limit.ending, True
        after = replace(
            state,
            node=target,
            variables=variables,
            turn=turn,
            path=(*state.path, target),
            finished=self.node(target).is_ending,
        )
        return Step(branch_index=index, branch=branch, before=state, after=after, turn_limit_reached=limited)

    def walk(self, replies: Sequence[str]) -> tuple[SessionState, list[Evaluation]]:
        """Play replies from the start; used by walkthroughs and `coach validate`."""
        state = self.start()
        evaluations: list[Evaluation] = []
        for reply in replies:
            if state.finished:
                break
            evaluation = self.evaluate(state, reply)
            evaluations.append(evaluation)
            state = self.advance(state, evaluation).after
        return state, evaluations
