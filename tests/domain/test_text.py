"""Normalisation keeps offsets into the original reply while understanding how people type."""

from coach.domain.text import analyse, damerau_levenshtein_at_most_one


def norms(text: str) -> list[str]:
    return [t.norm for t in analyse(text).terms]


def test_contractions_expand_but_point_at_the_original_word() -> None:
    analysis = analyse("I won't tell")
    assert [t.norm for t in analysis.terms] == ["i", "will", "not", "tell"]
    will, not_ = analysis.terms[1], analysis.terms[2]
    assert analysis.text[will.start : will.end] == "won't"
    assert (not_.start, not_.end) == (will.start, will.end)


def test_unicode_apostrophes_and_texting_forms_are_understood() -> None:
    assert norms("You\u2019re right, u shud ask ur mum") == [
        "you",
        "are",
        "right",
        "you",
        "should",
        "ask",
        "your",
        "mum",
    ]
    assert norms("dont worry im here") == ["do", "not", "worry", "i", "am", "here"]


def test_case_and_repeated_punctuation_do_not_matter() -> None:
    analysis = analyse("STOP!!! Please?!")
    assert [t.norm for t in analysis.terms] == ["stop", "please"]
    assert analysis.sentence_count == 2


def test_inflections_share_a_stem() -> None:
    stems = {t.stem for t in analyse("decide decides deciding decided").terms}
    assert len(stems) == 1


def test_sentences_and_clauses_are_marked() -> None:
    analysis = analyse("I hear you, but you should go. Okay, call him.")
    clause_starts = [t.norm for t in analysis.terms if t.clause_start]
    # Fillers at the start of a clause and the first content word both start it.
    assert clause_starts == ["i", "but", "you", "okay", "call"]
    assert analysis.sentence_count == 2


def test_idiomatic_negations_do_not_negate() -> None:
    terms = analyse("I can't wait to get it").terms
    assert not any(t.negator for t in terms)
    assert any(t.negator for t in analyse("I can't accept it").terms)


def test_offsets_survive_unicode_that_normalises_to_several_characters() -> None:
    text = "ﬁne, you should go"
    analysis = analyse(text)
    should = next(t for t in analysis.terms if t.norm == "should")
    assert text[should.start : should.end] == "should"


def test_edit_distance_of_one() -> None:
    assert damerau_levenshtein_at_most_one("should", "shoudl")
    assert damerau_levenshtein_at_most_one("decision", "decison")
    assert not damerau_levenshtein_at_most_one("decision", "division")


def test_so_opens_a_clause_only_before_a_subject() -> None:
    assert len({t.clause for t in analyse("That's so selfish of him").terms}) == 1
    assert len({t.clause for t in analyse("I hear you so you could try").terms}) == 2


def test_ur_reads_as_you_are_before_a_state() -> None:
    assert norms("ur being selfish") == ["you", "are", "being", "selfish"]
    assert norms("ur call") == ["your", "call"]


def test_dollar_signs_are_words() -> None:
    assert norms("$50") == ["dollar", "50"]


def test_abbreviations_do_not_end_a_sentence() -> None:
    analysis = analyse("Ask Dr. Feld about it. Then decide.")
    assert analysis.sentence_count == 2


def test_why_dont_you_suggests_rather_than_negates() -> None:
    assert not any(t.negator for t in analyse("Why don't you just call him?").terms)


def test_is_contractions_after_pronouns_like_everyone() -> None:
    assert norms("everyone's here") == ["everyone", "is", "here"]
    assert norms("Sam's watch") == ["sam", "watch"]
