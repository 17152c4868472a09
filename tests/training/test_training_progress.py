"""Progress over weighted steps: shares follow the weights, the bar never moves backwards."""

from __future__ import annotations

import pytest

from training.tiers.progress import Steps


def test_each_step_starts_where_the_weights_before_it_end(sink) -> None:
    steps = Steps({"a": 1.0, "b": 3.0}, sink)
    steps.start("a", "doing a")
    steps.advance(0.5)
    steps.start("b", "doing b")
    steps.advance(0.5)
    assert sink.fractions == pytest.approx([0.0, 0.125, 0.25, 0.625])
    assert sink.lines == ["doing a", "doing b"]
    assert list(steps.finish()) == ["a", "b"]


def test_the_bar_never_moves_backwards_and_notes_do_not_move_it(sink) -> None:
    steps = Steps({"a": 1.0, "b": 1.0}, sink)
    steps.start("a", "a")
    steps.advance(0.9)
    steps.advance(0.2)  # a step whose own estimate went down
    steps.note("a result")
    steps.start("b", "b")
    assert sink.fractions == sorted(sink.fractions)
    assert sink.lines == ["a", "a result", "b"]


def test_a_child_shares_out_its_parents_step(sink) -> None:
    steps = Steps({"prepare": 1.0, "train": 2.0, "save": 1.0}, sink)
    steps.start("prepare", "prepare")
    steps.start("train", "train")
    child = steps.child({"fit one": 1.0, "fit two": 1.0})
    child.start("fit one", "first")
    child.start("fit two", "second")
    child.advance(1.0)
    assert sink.fractions[-1] == pytest.approx(0.75)
    steps.start("save", "save")
    assert sink.fractions[-1] == pytest.approx(0.75)
    assert sink.lines == ["prepare", "train", "first", "second", "save"]
    assert set(child.finish()) == {"fit one", "fit two"}


def test_unknown_steps_take_no_share_but_are_timed(sink) -> None:
    steps = Steps({"known": 1.0}, sink)
    steps.start("extra", "an unplanned step")
    steps.start("known", "known")
    steps.advance(1.0)
    assert sink.fractions[-1] == pytest.approx(1.0)
    assert set(steps.finish()) == {"extra", "known"}
