"""Whether a model's answer survives leaving one word out: a second look at its doubts.

A model that is right about a question usually keeps its answer when any single word is left
out; an answer that rests on one word, or that changes with every variant, is more often wrong.
On the tutorial dataset, weighing the model's confidence by this share found more of its
mistakes among its least confident answers than the confidence alone (bench/RESULTS.md,
"Review inbox").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

MIN_WORDS = 3  # fewer words leave variants too short to say anything
MAX_VARIANTS = 16  # a long question's variants drop words spread evenly over it


def word_dropout_variants(text: str) -> list[str]:
    """The question with one word left out, for each word (or an even spread of them)."""
    words = text.split()
    if len(words) < MIN_WORDS:
        return []
    positions = range(len(words))
    if len(words) > MAX_VARIANTS:
        step = len(words) / MAX_VARIANTS
        positions = sorted({int(i * step) for i in range(MAX_VARIANTS)})
    return [" ".join(words[:i] + words[i + 1 :]) for i in positions]


def instability(
    fine_labels: Callable[[list[str]], Sequence[str]], texts: Sequence[str]
) -> list[float | None]:
    """For each text, the share of its one-word-out variants labelled otherwise than the text.

    ``fine_labels`` labels a batch of texts (one call for all texts and variants); None where
    a text is too short to have variants.
    """
    variants = [word_dropout_variants(text) for text in texts]
    batch = list(texts) + [variant for group in variants for variant in group]
    labels = list(fine_labels(batch)) if batch else []
    shares: list[float | None] = []
    at = len(texts)
    for own, group in zip(labels[: len(texts)], variants, strict=True):
        if not group:
            shares.append(None)
            continue
        changed = sum(label != own for label in labels[at : at + len(group)])
        shares.append(changed / len(group))
        at += len(group)
    return shares
