"""Turn a reply into normalised terms that still point at the trainee's original characters.

A trainee types "U shud just quit, ur call tho!!"; the matcher wants
``you should just quit | your call though``. Every term keeps the character span of the
word it came from, so evidence can be highlighted in the original text.

Normalisation covers case, Unicode quotes and dashes, repeated punctuation, contractions
("won't" -> "will not"), common texting forms, inflections (Snowball stems) and clause and
sentence boundaries (used for anchors and negation scope).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u0060": "'", "\u00b4": "'"})

# A word is letters/digits with inner apostrophes ("don't", "y'all"); everything else that is
# not space is punctuation.
_TOKEN = re.compile(r"[$%]|[^\W_]+(?:['\u2019\u2018\u02bc][^\W_]+)*|[^\w\s]", re.UNICODE)
# The same for ASCII text after clean() (whose apostrophes are all straight), which most
# replies are: ASCII letter classes match faster. \w and \s stay Unicode-aware so that control
# characters count as space exactly as above.
_TOKEN_ASCII = re.compile(r"[$%]|[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*|[^\w\s]")

_SENTENCE_END = frozenset(".!?")
_SYMBOL_WORDS = frozenset("$%")
# A full stop after these is part of the word, not the end of a sentence ("Dr. Feld").
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "st", "prof", "vs", "etc", "eg", "ie", "approx", "appt"}
)
_CLAUSE_BREAK = frozenset(',;:\u2014\u2013-()"\u2026')

# Words that open a new clause: negation scope and clause anchors stop here.
_CLAUSE_OPENERS = frozenset({"but", "because", "though", "although", "however", "yet", "unless", "whereas"})
# "and"/"or"/"so"/"while" only open a clause when a subject follows ("... and you should ...",
# "so you could ..."); "that's so selfish" stays one clause.
_SUBJECT_OPENERS = frozenset({"and", "or", "so", "while"})
_SUBJECTS = frozenset({"i", "you", "we", "he", "she", "they", "it", "that", "this", "there"})

_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "won't": ("will", "not"),
    "can't": ("can", "not"),
    "cannot": ("can", "not"),
    "shan't": ("shall", "not"),
    "ain't": ("is", "not"),
    "i'm": ("i", "am"),
    "let's": ("let", "us"),
    "y'all": ("you", "all"),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
    "hafta": ("have", "to"),
    "oughta": ("ought", "to"),
    "lemme": ("let", "me"),
    "gimme": ("give", "me"),
    "dunno": ("do", "not", "know"),
}

_SUFFIXES: dict[str, tuple[str, ...]] = {
    "n't": ("not",),
    "'re": ("are",),
    "'ve": ("have",),
    "'ll": ("will",),
    "'d": ("would",),
    "'m": ("am",),
}

# Texting forms and apostrophe-less contractions. Only forms that are not also ordinary
# English words are listed ("its", "were", "well" stay as they are).
_TEXTING: dict[str, tuple[str, ...]] = {
    "u": ("you",),
    "ya": ("you",),
    "yu": ("you",),
    "ur": ("your",),
    "wat": ("what",),
    "wut": ("what",),
    "wot": ("what",),
    "youre": ("you", "are"),
    "r": ("are",),
    "pls": ("please",),
    "plz": ("please",),
    "plse": ("please",),
    "dont": ("do", "not"),
    "doesnt": ("does", "not"),
    "didnt": ("did", "not"),
    "cant": ("can", "not"),
    "wont": ("will", "not"),
    "isnt": ("is", "not"),
    "arent": ("are", "not"),
    "wasnt": ("was", "not"),
    "werent": ("were", "not"),
    "shouldnt": ("should", "not"),
    "wouldnt": ("would", "not"),
    "couldnt": ("could", "not"),
    "havent": ("have", "not"),
    "hasnt": ("has", "not"),
    "mustnt": ("must", "not"),
    "neednt": ("need", "not"),
    "im": ("i", "am"),
    "ive": ("i", "have"),
    "id": ("i", "would"),
    "ill": ("i", "will"),
    "youll": ("you", "will"),
    "youd": ("you", "would"),
    "youve": ("you", "have"),
    "theyre": ("they", "are"),
    "thats": ("that", "is"),
    "whats": ("what", "is"),
    "lets": ("let", "us"),
    "shud": ("should",),
    "shld": ("should",),
    "shoud": ("should",),
    "shuld": ("should",),
    "wud": ("would",),
    "cud": ("could",),
    "thx": ("thanks",),
    "thnx": ("thanks",),
    "ty": ("thank", "you"),
    "tho": ("though",),
    "thru": ("through",),
    "bc": ("because",),
    "b/c": ("because",),
    "cuz": ("because",),
    "coz": ("because",),
    "cos": ("because",),
    "abt": ("about",),
    "ppl": ("people",),
    "rn": ("right", "now"),
    "tmrw": ("tomorrow",),
    "tmr": ("tomorrow",),
    "tonite": ("tonight",),
    "idk": ("i", "do", "not", "know"),
    "imo": ("in", "my", "opinion"),
    "imho": ("in", "my", "opinion"),
    "tbh": ("to", "be", "honest"),
    "ngl": ("honestly",),
    "btw": ("by", "the", "way"),
    "def": ("definitely",),
    "prob": ("probably",),
    "probs": ("probably",),
    "gotcha": ("got", "you"),
    "k": ("okay",),
    "ok": ("okay",),
    "kk": ("okay",),
    "msg": ("message",),
    "txt": ("text",),
    "num": ("number",),
    "fb": ("facebook",),
    "insta": ("instagram",),
    "ig": ("instagram",),
    "meds": ("medication",),
    "urself": ("yourself",),
    "yourslf": ("yourself",),
    "heres": ("here", "is"),
    "theres": ("there", "is"),
    "w": ("with",),
    "b4": ("before",),
    "$": ("dollar",),
    "%": ("percent",),
    "med": ("medication",),
}

# Negators, with the idioms in which they negate nothing ("I can't wait", "no matter what")
# or raise the negation to the next clause ("I don't think you should" still advises).
NEGATORS = frozenset({"not", "no", "never", "nobody", "nothing", "nowhere", "neither", "nor"})
NEGATOR_PHRASES = frozenset({("no", "one")})
_NEGATION_IDIOMS: tuple[tuple[str, ...], ...] = (
    ("not", "wait"),
    ("not", "worry"),
    ("not", "hesitate"),
    ("not", "think"),
    ("not", "believe"),
    ("not", "suppose"),
    ("not", "reckon"),
    ("not", "only"),
    ("not", "just"),
    ("not", "sure"),
    ("not", "help", "but"),
    ("not", "thank"),
    ("no", "matter"),
    ("no", "problem"),
    ("no", "worries"),
    ("no", "doubt"),
    ("never", "mind"),
    ("nothing", "but"),
)

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of one lower-case word ("deciding" -> "decid")."""
    result: str = _stemmer.stemWord(word)
    return result


@dataclass(slots=True)
class Term:
    """One normalised word of a reply, pointing back at the characters it came from.

    Read-only by convention. A plain slotted class rather than a frozen one or a named tuple:
    replies are split into thousands of these a second, and compiled (setup.py) a plain
    class is built and read fastest.
    """

    norm: str
    stem: str
    start: int
    end: int
    sentence: int
    clause: int
    clause_start: bool
    """True for the first content term of its clause, after fillers like "ok", "so", "well"."""
    negator: bool
    """A negator that really negates (not part of an idiom such as "can't wait")."""


@dataclass(frozen=True, slots=True)
class Analysis:
    """A reply split into terms, sentences and clauses."""

    text: str
    terms: tuple[Term, ...]
    sentence_count: int
    sentence_spans: tuple[tuple[int, int], ...]
    """Term index ranges [start, end) per sentence."""
    question_sentences: frozenset[int]
    encoded: str
    """The terms as one string for the pattern regexes: "[^]stem/norm " per term, "| " between
    sentences; "^" marks a clause start."""
    token_starts: tuple[int, ...]
    """Where each term begins in ``encoded``."""
    negators: tuple[int, ...] = ()
    """Indices of the terms that really negate (see :attr:`Term.negator`)."""
    stems: frozenset[str] = frozenset()
    """Every stem in the reply."""
    norms: frozenset[str] = frozenset()
    """Every word form in the reply."""
    _lookup: dict[str, dict[str, list[int]]] = field(default_factory=dict, repr=False, compare=False)
    """by_stem and by_norm, built on first use: evaluation with the automaton rarely needs them."""

    @property
    def by_stem(self) -> Mapping[str, Sequence[int]]:
        """Term indices per stem, so a pattern visits only the places it could start."""
        return self._lookups()["stem"]

    @property
    def by_norm(self) -> Mapping[str, Sequence[int]]:
        """Term indices per word form."""
        return self._lookups()["norm"]

    def _lookups(self) -> dict[str, dict[str, list[int]]]:
        if not self._lookup:
            by_stem: dict[str, list[int]] = {}
            by_norm: dict[str, list[int]] = {}
            for index, term in enumerate(self.terms):
                by_stem.setdefault(term.stem, []).append(index)
                by_norm.setdefault(term.norm, []).append(index)
            self._lookup.update(stem=by_stem, norm=by_norm)
        return self._lookup


_FILLERS = frozenset(
    {
        "okay",
        "so",
        "well",
        "look",
        "listen",
        "honestly",
        "hey",
        "alright",
        "right",
        "yeah",
        "yes",
        "oh",
        "hmm",
        "um",
        "uh",
        "and",
        "but",
        "then",
        "now",
        "seriously",
        "basically",
        "like",
    }
)


def clean(text: str) -> str:
    """Unicode-normalise a reply (NFKC, straight apostrophes) without changing its length.

    Offsets must stay valid for the original string, so every replacement is one character
    for one character; NFKC is applied per character and only when it keeps the length.
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        # Most replies are already NFKC (curly quotes and dashes are): only apostrophes change.
        return text.translate(_APOSTROPHES)
    return _NON_ASCII.sub(_nfkc_one, text).translate(_APOSTROPHES)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _nfkc_one(match: re.Match[str]) -> str:
    norm = unicodedata.normalize("NFKC", match.group())
    return norm if len(norm) == 1 else match.group()


# "ur" is "you are" before these (or any -ing word): "ur being selfish", "ur right".
_UR_IS_YOU_ARE = frozenset(
    "right wrong welcome not so in on a an the really very such gonna allowed free safe sure okay ok fine "
    "strong brave worth doing going being trying making saying".split()
)


# Words whose "'s" is "is" ("everyone's here"), not a possessive.
_IS_CONTRACTING = frozenset(
    "it that what there he she who here where how why when everyone everybody someone somebody "
    "nobody nothing everything something this".split()
)


def _expand(word: str, next_word: str = "") -> tuple[str, ...]:
    lower = word.lower()
    if lower == "ur" and (next_word in _UR_IS_YOU_ARE or next_word.endswith(("ing", "ed"))):
        return ("you", "are")
    if lower in _CONTRACTIONS:
        return _CONTRACTIONS[lower]
    if lower in _TEXTING:
        return _TEXTING[lower]
    if "'" in lower:
        for suffix, tail in _SUFFIXES.items():
            if lower.endswith(suffix) and len(lower) > len(suffix):
                head = lower[: -len(suffix)]
                # "don't" -> "do not"; "can't"/"won't" are handled above.
                return (head, *tail)
        if lower.endswith("'s"):
            # "it's" -> "it is"; possessive "John's" -> "john" keeps matching on the name.
            head = lower[:-2]
            return (head, "is") if head in _IS_CONTRACTING else (head,)
        return (lower.replace("'", ""),)
    return (lower,)


class _Form(NamedTuple):
    """One normalised term of a typed word, with its piece of the encoded text ready-made."""

    norm: str
    stem: str
    filler: bool
    negator: bool
    piece: str
    """"stem/norm " for the encoded text; "^" goes in front at a clause start."""


class WordForms:
    """What each typed word becomes — expanded, typo-corrected and stemmed — remembered per word.

    Replies repeat words endlessly, so this work happens once per distinct word rather than
    once per occurrence. ``correct`` maps an unknown word to a known vocabulary word (typo
    tolerance); it is given by the compiled rubric set, which knows its vocabulary.
    """

    LIMIT = 200_000
    """Remembered words before starting afresh, so hostile input cannot grow memory forever."""

    def __init__(self, correct: Callable[[str], str | None] | None = None) -> None:
        self._correct = correct
        self.known: dict[str, tuple[str, tuple[_Form, ...]]] = {}
        """Typed word (as typed) -> what :meth:`of` says of it."""

    def forget(self) -> None:
        """Drop what was worked out, after the vocabulary behind ``correct`` changed."""
        self.known = {}

    def of(self, word: str, next_word: str) -> tuple[str, tuple[_Form, ...]]:
        """The first expanded word (before typo correction) and the terms of the typed ``word``."""
        words = _expand(word, next_word.lower())
        forms: list[_Form] = []
        for expanded in words:
            norm, word_stem = expanded, stem(expanded)
            if self._correct is not None and len(norm) >= 5:
                fixed = self._correct(norm)
                if fixed is not None:
                    norm, word_stem = fixed, stem(fixed)
            forms.append(_Form(norm, word_stem, norm in _FILLERS, norm in NEGATORS, f"{word_stem}/{norm} "))
        entry = (words[0], tuple(forms))
        # "ur" depends on the next word ("ur right" vs "ur call"), so it is never remembered.
        if word.lower() != "ur":
            if len(self.known) >= self.LIMIT:
                self.known = {}
            self.known[word] = entry
        return entry


_PLAIN = WordForms()


def analyse(text: str, words: WordForms | None = None) -> Analysis:
    """Split ``text`` into terms with spans, sentences and clauses.

    ``words`` says what each typed word becomes; the evaluator passes one that corrects typos
    against its rubric vocabulary.
    """
    words = words or _PLAIN
    known = words.known
    cleaned = clean(text)
    terms: list[Term] = []
    sentence = 0
    clause = 0
    sentence_spans: list[tuple[int, int]] = []
    sentence_first = 0
    questions: set[int] = set()
    at_clause_start = True
    pending_break = False
    pieces: list[str] = []
    token_starts: list[int] = []
    length = 0
    encoded_sentence = 0
    negators = noes = False
    term_sentence = -1
    """The sentence of the last term, -1 before the first."""

    raw = _tokens(cleaned)
    count = len(raw)
    for index, (tok, start, end) in enumerate(raw):
        entry = known.get(tok)
        if entry is None:
            if not (tok[0].isalnum() or tok in _SYMBOL_WORDS):
                if tok == ".":
                    if terms and raw[index - 1][2] == start and raw[index - 1][0].lower() in _ABBREVIATIONS:
                        continue
                    if _is_ellipsis(raw, index):
                        # "saving the pills... well" pauses; it does not end the sentence.
                        pending_break = True
                        continue
                if tok in _SENTENCE_END:
                    if tok == "?":
                        questions.add(sentence)
                    if len(terms) > sentence_first:
                        sentence_spans.append((sentence_first, len(terms)))
                        sentence += 1
                        sentence_first = len(terms)
                    clause += 1
                    at_clause_start = True
                elif tok in _CLAUSE_BREAK:
                    pending_break = True
                continue
            entry = words.of(tok, raw[index + 1][0] if index + 1 < count else "")
        if pending_break:
            clause += 1
            at_clause_start = True
            pending_break = False
        first_word, forms = entry
        if term_sentence == sentence and (
            first_word in _CLAUSE_OPENERS
            or (
                first_word in _SUBJECT_OPENERS
                and index + 1 < count
                and _expand(raw[index + 1][0].lower())[0] in _SUBJECTS
            )
        ):
            clause += 1
            at_clause_start = True
        if sentence != encoded_sentence:
            pieces.append("| ")
            length += 2
            encoded_sentence = sentence
        term_sentence = sentence
        for form in forms:
            # Fillers ("okay", "so", "well") and the first content word all start the clause,
            # so "^ okay fine" and "^ go" both anchor in "Okay, so go".
            norm, word_stem, filler, negator, piece = form
            is_start = at_clause_start
            if not filler:
                at_clause_start = False
            terms.append(Term(norm, word_stem, start, end, sentence, clause, is_start, negator))
            if negator:
                negators = True
                if norm == "no":
                    noes = True
            if is_start:
                piece = "^" + piece
            token_starts.append(length)
            pieces.append(piece)
            length += len(piece)
    if len(terms) > sentence_first:
        sentence_spans.append((sentence_first, len(terms)))
    if negators:
        _mark_idioms(terms)
    if noes:
        _mark_negator_phrases(terms)
    negating = tuple(i for i, term in enumerate(terms) if term.negator) if negators else ()
    return Analysis(
        text=text,
        terms=tuple(terms),
        sentence_count=len(sentence_spans),
        sentence_spans=tuple(sentence_spans),
        question_sentences=frozenset(questions),
        encoded="".join(pieces),
        token_starts=tuple(token_starts),
        negators=negating,
        stems=frozenset([term.stem for term in terms]),
        norms=frozenset([term.norm for term in terms]),
    )


def _tokens(cleaned: str) -> list[tuple[str, int, int]]:
    """Each token with its span. Only whitespace and underscores lie between tokens, and no
    token holds either, so a token's start is where it is next found: cheaper than match
    objects."""
    found = (_TOKEN_ASCII if cleaned.isascii() else _TOKEN).findall(cleaned)
    raw: list[tuple[str, int, int]] = []
    at = 0
    for token in found:
        start = cleaned.find(token, at)
        at = start + len(token)
        raw.append((token, start, at))
    return raw


def _is_ellipsis(raw: list[tuple[str, int, int]], index: int) -> bool:
    """A dot touching another dot ("...") is an ellipsis."""
    before = index > 0 and raw[index - 1][0] == "." and raw[index - 1][2] == raw[index][1]
    after = index + 1 < len(raw) and raw[index + 1][0] == "." and raw[index + 1][1] == raw[index][2]
    return before or after


def _mark_idioms(terms: list[Term]) -> None:
    norms = [t.norm for t in terms]
    for i, term in enumerate(terms):
        if not term.negator:
            continue
        if i >= 2 and norms[i - 2] == "why" and norms[i - 1] in {"do", "did", "would"}:
            # "Why don't you just…" suggests; it negates nothing.
            term.negator = False
            continue
        for idiom in _NEGATION_IDIOMS:
            if idiom[0] != term.norm:
                continue
            # Allow one adverb or auxiliary between the negator and the idiom word
            # ("I can't really wait", "I do not even think").
            for skip in (0, 1):
                tail = norms[i + 1 + skip : i + len(idiom) + skip]
                if tuple(tail) == idiom[1:]:
                    term.negator = False
                    break
            if not terms[i].negator:
                break


def _mark_negator_phrases(terms: list[Term]) -> None:
    for i in range(len(terms) - 1):
        if (terms[i].norm, terms[i + 1].norm) in NEGATOR_PHRASES:
            terms[i].negator = True


def damerau_levenshtein_at_most_one(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit (insert, delete, substitute, swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if la < lb else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1 :] == short:
            return True
    return False
