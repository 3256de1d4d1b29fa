"""How much of a reply is the trainee's own story, and whether it hands the focus back.

Purposeful self-disclosure is brief, relevant and returns to the client; a long story that
takes over the turn, or that leans on the client for support, crosses a boundary (IC&RC peer
recovery code; iNAPS "mutual, not self-serving").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coach.domain.text import Analysis, Term

FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself"})
SECOND_PERSON = frozenset({"you", "your", "yours", "yourself"})
# Stems that mark lived experience rather than opinion ("I think", "I hear you").
EXPERIENCE = frozenset(
    {
        "been",
        "went",
        "felt",
        "struggl",
        "rememb",
        "recoveri",
        "relaps",
        "experi",
        "had",
        "was",
        "were",
        "got",
        "spent",
        "lost",
        "quit",
        "drank",
        "slip",
        "sober",
        "clean",
    }
)

# Word forms (not stems) that mark lived experience: "I still use", not "I used to think".
EXPERIENCE_FORMS = frozenset({"use", "using", "still"})

TAKEOVER_WORDS = 30
"""Words of the trainee's own story above which it takes over the turn..."""
TAKEOVER_SHARE = 0.6
"""...when the story is also most of the reply..."""
TAKEOVER_SENTENCES = 3
"""...and runs over several sentences (or one long run-on of LONG_STORY_WORDS)."""
LONG_STORY_WORDS = 40
BRIEF_WORDS = 30


@dataclass(frozen=True)
class SelfDisclosure:
    self_words: int
    total_words: int
    hands_back: bool
    takes_over: tuple[int, int] | None
    """Term span of the story when it takes over the turn."""
    brief_and_returns: tuple[int, int] | None
    """Term span of a brief lived-experience share followed by a turn back to the client."""

    @property
    def share(self) -> float:
        return self.self_words / self.total_words if self.total_words else 0.0


SUBSTANCE_VERBS = frozenset({"drink", "use", "smoke", "get", "shoot", "take", "party", "gambl"})


def _used_to(terms: Sequence[Term]) -> bool:
    """ "I used to drink" is lived experience; "I used to think" is not."""
    norms = [t.norm for t in terms]
    return any(
        norms[i] == "used" and norms[i + 1] == "to" and terms[i + 2].stem in SUBSTANCE_VERBS
        for i in range(len(norms) - 2)
    )


def measure_self_disclosure(analysis: Analysis) -> SelfDisclosure:
    terms = analysis.terms
    self_sentences: list[int] = []
    experience_sentences: list[int] = []
    self_words = 0
    spans = analysis.sentence_spans
    for index, (first, last) in enumerate(spans):
        mine = theirs = 0
        lived = used = False
        for position in range(first, last):
            term = terms[position]
            norm = term.norm
            if norm in FIRST_PERSON:
                mine += 1
            elif norm in SECOND_PERSON:
                theirs += 1
            elif norm == "used":
                used = True
            if term.stem in EXPERIENCE or norm in EXPERIENCE_FORMS:
                lived = True
        if not mine:
            continue
        lived = lived or (used and _used_to(terms[first:last]))
        # The trainee's story: about "I" only, or mostly about "I" and about what they lived
        # through ("I was exactly like you"); "I'm glad you told me" is about the client.
        if not theirs or (mine > theirs and lived):
            self_sentences.append(index)
            self_words += last - first
            if lived:
                experience_sentences.append(index)
    total = len(terms)
    last_sentence = analysis.sentence_count - 1
    # The reply hands the focus back when it ends on the client: a question, or words about them.
    hands_back = bool(
        analysis.sentence_count
        and last_sentence not in self_sentences
        and (
            last_sentence in analysis.question_sentences
            or any(t.norm in SECOND_PERSON for t in terms[spans[last_sentence][0] :])
        )
    )
    takes_over: tuple[int, int] | None = None
    if (
        (len(self_sentences) >= TAKEOVER_SENTENCES or self_words >= LONG_STORY_WORDS)
        and self_words >= TAKEOVER_WORDS
        and self_words / max(total, 1) >= TAKEOVER_SHARE
    ):
        takes_over = (
            analysis.sentence_spans[self_sentences[0]][0],
            analysis.sentence_spans[self_sentences[-1]][1] - 1,
        )
    brief: tuple[int, int] | None = None
    if experience_sentences and self_words <= BRIEF_WORDS and hands_back:
        returning = [
            i
            for i in range(experience_sentences[0] + 1, analysis.sentence_count)
            if i in analysis.question_sentences
            and {t.norm for t in terms[analysis.sentence_spans[i][0] : analysis.sentence_spans[i][1]]}
            & SECOND_PERSON
        ]
        if returning:
            first = analysis.sentence_spans[experience_sentences[0]][0]
            brief = (first, analysis.sentence_spans[experience_sentences[-1]][1] - 1)
    return SelfDisclosure(
        self_words=self_words,
        total_words=total,
        hands_back=hands_back,
        takes_over=takes_over,
        brief_and_returns=brief,
    )
