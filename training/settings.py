"""The settings of the model side, in one place: the app factory sets them once per process.

Each process starts with the defaults below; ``configure`` changes only what it is given.
Code reads ``SETTINGS`` when it needs a value, so a change applies from the next use on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Weights of the ONNX graphs that training stores: float32, or int8 (faster, slightly less
# accurate; bench/RESULTS.md, "Training time and serving cost per tier").
ENCODER_PRECISIONS = ("fp32", "int8")


@dataclass
class Settings:
    """What the model side of one process is set to."""

    # The sentence encoder's intra-op threads. One per worker is the right default on a
    # server: gunicorn runs one worker per core, and a worker whose encoder takes several
    # cores only makes the others wait.
    encoder_threads: int = 1
    # Where exported encoder graphs and the vectors of training questions are kept (None: a
    # folder under the system's temporary directory for graphs, no vectors kept).
    encoder_cache_dir: str | None = None
    # The precision of the sentence-encoder graphs exported from now on.
    encoder_precision: str = "fp32"
    # The precision of the fine-tuned network graph that training stores: int8 (one scale per
    # output channel, about three times faster to serve) is kept only when it stays within
    # INT8_TOLERANCE of float32 on the validation rows (training.tiers.finetuned).
    finetune_precision: str = "fp32"


SETTINGS = Settings()


def configure(
    *,
    encoder_threads: int | None = None,
    encoder_cache_dir: str | os.PathLike | None = None,
    encoder_precision: str | None = None,
    finetune_precision: str | None = None,
) -> None:
    """Set the encoder's threads (per process), where exported graphs are kept, and the
    weights' precision ("fp32" or "int8") of the encoder and fine-tuned graphs trained from now
    on; a setting left out keeps its value."""
    if encoder_precision is not None and encoder_precision not in ENCODER_PRECISIONS:
        raise ValueError(
            f"encoder precision must be one of {ENCODER_PRECISIONS}, not {encoder_precision!r}"
        )
    if finetune_precision is not None and finetune_precision not in ENCODER_PRECISIONS:
        raise ValueError(
            f"fine-tuned network precision must be one of {ENCODER_PRECISIONS}, "
            f"not {finetune_precision!r}"
        )
    if encoder_threads is not None:
        SETTINGS.encoder_threads = max(1, int(encoder_threads))
    if encoder_cache_dir is not None:
        SETTINGS.encoder_cache_dir = str(encoder_cache_dir)
    if encoder_precision is not None:
        SETTINGS.encoder_precision = encoder_precision
    if finetune_precision is not None:
        SETTINGS.finetune_precision = finetune_precision
