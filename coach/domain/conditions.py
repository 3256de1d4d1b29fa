"""Branch conditions: a small language authors write in ``when:``.

Grammar (case-insensitive keywords)::

    condition := or
    or        := and ("or" and)*
    and       := unary ("and" unary)*
    unary     := "not" unary | "(" condition ")" | atom
    atom      := DIMENSION ("met" | "violated" | "absent")          autonomy met
               | "criterion" CRITERION_ID ["matched"]                criterion gives-number matched
               | "critical"                                         any critical incident
               | [DIMENSION] "score" OP NUMBER                      boundaries score >= 0.7
               | VARIABLE OP NUMBER                                 trust >= 2
               | "turn" OP NUMBER                                   turn >= 4
               | "otherwise" | "always"                             the fallback
    OP        := ">=" | "<=" | ">" | "<" | "==" | "!="

``score`` alone is the mean over the node's focus dimensions. Conditions parse once when
content loads; evaluating them is pure.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from coach.domain.evaluation import Evaluation

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_TOKEN = re.compile(r"\s*(>=|<=|==|!=|>|<|\(|\)|-?\d+(?:\.\d+)?|[A-Za-z_][\w.-]*)")
VERDICT_WORDS = frozenset({"met", "violated", "absent"})


class ConditionSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class TurnFacts:
    """What a condition may look at: this turn's evaluation, the state, the node's focus."""

    evaluation: Evaluation
    variables: Mapping[str, int]
    focus: tuple[str, ...]
    turn: int


@dataclass(frozen=True)
class Condition:
    source: str
    test: Callable[[TurnFacts], bool]
    dimensions: frozenset[str]
    criteria: frozenset[str]
    variables: frozenset[str]
    is_fallback: bool

    def __call__(self, facts: TurnFacts) -> bool:
        return self.test(facts)


def _mean_focus_score(facts: TurnFacts) -> float:
    dims = [facts.evaluation.dimensions[d].score for d in facts.focus if d in facts.evaluation.dimensions]
    return sum(dims) / len(dims) if dims else 0.5


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[str] = []
        pos = 0
        stripped = source.strip()
        while pos < len(stripped):
            m = _TOKEN.match(stripped, pos)
            if not m or m.end() == pos:
                raise ConditionSyntaxError(f"cannot read {stripped[pos:]!r} in condition {source!r}")
            self.tokens.append(m.group(1))
            pos = m.end()
        self.at = 0
        self.dimensions: set[str] = set()
        self.criteria: set[str] = set()
        self.variables: set[str] = set()

    def error(self, message: str) -> ConditionSyntaxError:
        return ConditionSyntaxError(f"{message} in condition {self.source!r}")

    def peek(self, offset: int = 0) -> str | None:
        i = self.at + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def take(self) -> str:
        if self.at >= len(self.tokens):
            raise self.error("unexpected end")
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Callable[[TurnFacts], bool]:
        test = self.or_()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()!r}")
        return test

    def or_(self) -> Callable[[TurnFacts], bool]:
        parts = [self.and_()]
        while (self.peek() or "").lower() == "or":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda f: any(p(f) for p in parts))

    def and_(self) -> Callable[[TurnFacts], bool]:
        parts = [self.unary()]
        while (self.peek() or "").lower() == "and":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda f: all(p(f) for p in parts))

    def unary(self) -> Callable[[TurnFacts], bool]:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end")
        if token.lower() == "not":
            self.take()
            inner = self.unary()
            return lambda f: not inner(f)
        if token == "(":
            self.take()
            inner = self.or_()
            if self.take() != ")":
                raise self.error("missing ')'")
            return inner
        return self.atom()

    def number(self) -> float:
        token = self.take()
        try:
            return float(token)
        except ValueError:
            raise self.error(f"expected a number, got {token!r}") from None

    def op(self) -> Callable[[float, float], bool]:
        token = self.take()
        if token not in _OPS:
            raise self.error(f"expected a comparison, got {token!r}")
        return _OPS[token]

    def atom(self) -> Callable[[TurnFacts], bool]:
        word = self.take()
        lower = word.lower()
        if lower in {"otherwise", "always"}:
            return lambda f: True
        if lower == "critical":
            return lambda f: bool(f.evaluation.critical)
        if lower == "criterion":
            criterion = self.take()
            if (self.peek() or "").lower() == "matched":
                self.take()
            self.criteria.add(criterion)
            return lambda f: f.evaluation.matched(criterion)
        if lower == "turn":
            cmp, value = self.op(), self.number()
            return lambda f: cmp(f.turn, value)
        if lower == "score":
            cmp, value = self.op(), self.number()
            return lambda f: cmp(_mean_focus_score(f), value)
        following = (self.peek() or "").lower()
        if following in VERDICT_WORDS:
            self.take()
            self.dimensions.add(word)
            verdict = following

            def has_verdict(f: TurnFacts) -> bool:
                result = f.evaluation.dimensions.get(word)
                return result is not None and result.verdict.value == verdict

            return has_verdict
        if following == "score":
            self.take()
            self.dimensions.add(word)
            cmp, value = self.op(), self.number()

            def dim_score(f: TurnFacts) -> bool:
                result = f.evaluation.dimensions.get(word)
                return result is not None and cmp(result.score, value)

            return dim_score
        if following in _OPS:
            self.variables.add(word)
            cmp, value = self.op(), self.number()
            return lambda f: cmp(f.variables.get(word, 0), value)
        raise self.error(
            f"cannot understand {word!r}; expected e.g. 'autonomy met', 'criterion ID matched', "
            "'score >= 0.7' or 'trust >= 2'"
        )


def parse_condition(source: str) -> Condition:
    parser = _Parser(source)
    if not parser.tokens:
        raise ConditionSyntaxError("empty condition")
    test = parser.parse()
    return Condition(
        source=source,
        test=test,
        dimensions=frozenset(parser.dimensions),
        criteria=frozenset(parser.criteria),
        variables=frozenset(parser.variables),
        is_fallback=source.strip().lower() in {"otherwise", "always"},
    )
