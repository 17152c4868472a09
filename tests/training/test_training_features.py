"""Question cues, text preprocessing and feature sets."""

from __future__ import annotations

import pytest
from scipy import sparse

from training.question_features.extractors import QuestionFeatures, build_features
from training.question_features.heuristics import find_wh, head_noun, question_cues
from training.question_features.text import mark_acronyms, untokenise


def head_of(question: str) -> str | None:
    """The head noun cue of a question, if any."""
    words = [key.split("=", 1)[1] for key in question_cues(question) if key.startswith("head=")]
    return words[0] if words else None


@pytest.mark.parametrize(
    ("question", "head"),
    [
        ("What county is Modesto in?", "county"),
        ("What county is Modesto , California in ?", "county"),
        ("How far is it from Denver to Aspen?", "far"),
        ("Name a flower that blooms at night.", "flower"),
        ("Which river flows through Rome?", "river"),
        ("What is the capital of Australia?", "capital"),
        ("What kind of dog is Lassie?", "dog"),
        ("What is the largest city in the world?", "city"),
        ("In what year did the Titanic sink?", "year"),
        ("Who was Galileo?", None),
        ("What does NASA stand for?", None),
        # Names, numbers and hyphenated words before the noun modify it.
        ("What London museum features a Chamber of Horrors?", "museum"),
        ("What U.S. university has the largest library?", "university"),
        ("What 1976 film won Best Picture?", "film"),
        ("What man-made waterway is the longest?", "waterway"),
        ("Which President was shot in Dallas?", "president"),
        # After "is", a possessive names the owner of the focus; "'s" before a determiner is
        # "is".
        ("What is Beethoven 's ninth symphony called ?", "symphony"),
        ("What is the name of Tom's dog?", "dog"),
        ("What river's the longest in Europe?", "river"),
        # Right after the wh-word it is the owner that is asked for.
        ("What company's logo is a red circle?", "company"),
    ],
)
def test_head_noun(question: str, head: str | None) -> None:
    assert head_of(question) == head


@pytest.mark.parametrize(
    ("question", "wh"),
    [
        ("Who was Galileo?", "who"),
        ("In what year did it end?", "what"),
        ("Name a flower.", "name"),
        ("Whom did she marry?", "whom"),
        ("The capital of France is what?", "what"),
        ("Paris is nice.", "none"),
    ],
)
def test_wh_word(question: str, wh: str) -> None:
    assert f"wh={wh}" in question_cues(question)


def test_compound_wh_and_shapes() -> None:
    cues = question_cues("How many people live in NYC in 1990 ?")
    assert "compound=how many" in cues
    assert "shape=allcaps" in cues and "shape=digits" in cues
    assert "compound=what year" in question_cues("What year did WWII end?")


def test_head_noun_handles_missing_focus() -> None:
    assert find_wh([]) == ("none", -1)
    assert head_noun(["what"], "what", 0) is None


def test_untokenise_makes_uiuc_and_typed_text_equal() -> None:
    assert untokenise("What 's the name of Tom 's dog ?") == "What's the name of Tom's dog?"
    assert untokenise("Who sang ``Yesterday'' ?") == 'Who sang "Yesterday"?'
    assert untokenise("Why do n't birds fall ?") == "Why don't birds fall?"


@pytest.mark.parametrize(
    ("question", "marked"),
    [
        ("What is SAP?", "What is SAP (acronym)?"),
        ('What does "B.Y.O.B." mean?', 'What does "B.Y.O.B. (acronym)" mean?'),
        ("Who led the U.S. and the USSR?", "Who led the U.S. (acronym) and the USSR (acronym)?"),
        ("What is a bridge?", "What is a bridge?"),
        ("Is I a vowel in Latin?", "Is I a vowel in Latin?"),
        ("WHAT IS THE CAPITAL OF FRANCE?", "WHAT IS THE CAPITAL OF FRANCE?"),
    ],
)
def test_acronyms_are_marked_for_an_uncased_encoder(question: str, marked: str) -> None:
    assert mark_acronyms(question) == marked


def test_uiuc_and_typed_spellings_give_identical_features(tiny_frame) -> None:
    union = build_features("default").fit(list(tiny_frame["text"]) + ["What's a bridge?"])
    matrix = union.transform(["What 's a bridge ?", "What's a bridge?"])
    assert (matrix[0] != matrix[1]).nnz == 0


def test_question_features_are_sparse_and_named(tiny_frame) -> None:
    cues = QuestionFeatures().fit(tiny_frame["text"])
    matrix = cues.transform(["How many dogs are there?"])
    assert sparse.issparse(matrix)
    names = set(cues.get_feature_names_out()[matrix.indices])
    assert "wh=how" in names and "compound=how many" in names


def test_feature_sets() -> None:
    tutorial = build_features("tutorial")
    assert [name for name, _ in tutorial.transformer_list] == ["word"]
    default = build_features("default")
    assert [name for name, _ in default.transformer_list] == ["word", "char", "cues"]
    with pytest.raises(ValueError, match="unknown feature set 'bag-of-words'"):
        build_features("bag-of-words")


def test_question_features_row_equals_transform(tiny_frame) -> None:
    """The serving path's single row must be the row ``transform`` builds, column for column."""
    cues = QuestionFeatures(weight=0.3).fit(tiny_frame["text"])
    texts = list(tiny_frame["text"]) + ["Which unseenword county has the zzq largest lake?", ""]
    assert all(len(cues.row(text)[0]) > 0 for text in texts[:-1])
    for text in texts:
        expected = sparse.csr_matrix(cues.transform([text]))
        expected.sort_indices()
        columns, values = cues.row(text)
        assert columns.tolist() == expected.indices.tolist()
        assert values.tolist() == pytest.approx(expected.data.tolist(), abs=0)


def test_fitting_the_cues_finds_each_questions_cues_once(tiny_frame, monkeypatch) -> None:
    """fit_transform gives fit-then-transform's matrix, vocabulary and all, in one pass."""
    import training.question_features.extractors as features

    texts = list(tiny_frame["text"])
    expected_cues = QuestionFeatures(weight=0.3).fit(texts)
    expected = expected_cues.transform(texts)
    calls = []
    monkeypatch.setattr(
        features, "question_cues", lambda text: calls.append(text) or question_cues(text)
    )
    cues = QuestionFeatures(weight=0.3)
    matrix = cues.fit_transform(texts)
    assert len(calls) == len(texts)
    assert cues.vectorizer_.vocabulary_ == expected_cues.vectorizer_.vocabulary_
    assert matrix.shape == expected.shape and (matrix != expected).nnz == 0


def test_cues_are_found_once_per_question_inside_a_training_block(monkeypatch):
    import training.question_features.extractors as features

    calls = []

    def counted(text):
        calls.append(text)
        return question_cues(text)

    monkeypatch.setattr(features, "question_cues", counted)
    texts = ["Who wrote Hamlet ?", "What is NASA ?", "Who wrote Hamlet ?"]
    with features.cues_remembered():
        extractor = QuestionFeatures()
        fitted = extractor.fit_transform(texts)
        again = QuestionFeatures().fit(texts).transform(texts[:2])
        with features.cues_remembered():  # nested: the same table
            extractor.transform(["What is NASA ?"])
    assert sorted(calls) == sorted({*texts})  # two distinct questions, each once
    assert (fitted[:2] != again).nnz == 0

    calls.clear()  # outside the block nothing is kept: a server's workers grow no table
    extractor.transform(["What is NASA ?"])
    extractor.transform(["What is NASA ?"])
    assert calls == ["What is NASA ?", "What is NASA ?"]
    assert features._remembered is None
