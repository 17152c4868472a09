"""The model side's settings: set once per process by the app factory, each on its own."""

from __future__ import annotations

import dataclasses

import pytest

from training.settings import ENCODER_PRECISIONS, SETTINGS, configure


@pytest.fixture(autouse=True)
def restore_settings():
    saved = dataclasses.replace(SETTINGS)
    yield
    for field in dataclasses.fields(SETTINGS):
        setattr(SETTINGS, field.name, getattr(saved, field.name))


def test_configure_changes_only_what_it_is_given(tmp_path) -> None:
    before = dataclasses.replace(SETTINGS)
    configure(encoder_threads=3, encoder_cache_dir=tmp_path)
    assert SETTINGS.encoder_threads == 3
    assert SETTINGS.encoder_cache_dir == str(tmp_path)
    assert SETTINGS.encoder_precision == before.encoder_precision
    assert SETTINGS.finetune_precision == before.finetune_precision
    configure(encoder_precision="int8", finetune_precision="int8")
    assert (SETTINGS.encoder_precision, SETTINGS.finetune_precision) == ("int8", "int8")
    assert SETTINGS.encoder_threads == 3


def test_at_least_one_encoder_thread() -> None:
    configure(encoder_threads=0)
    assert SETTINGS.encoder_threads == 1


@pytest.mark.parametrize("setting", ["encoder_precision", "finetune_precision"])
def test_an_unknown_precision_is_refused_and_changes_nothing(setting: str) -> None:
    before = dataclasses.replace(SETTINGS)
    with pytest.raises(ValueError, match="int9"):
        configure(encoder_threads=5, **{setting: "int9"})
    assert SETTINGS == before
    assert "int9" not in ENCODER_PRECISIONS
