"""How firmly the serving model holds its answers to stored questions, remembered per version."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from flask import current_app

from training import instability

NO_OPINION = 0.5  # too short for variants, or no model to ask
_CACHE_LIMIT = 50_000  # questions remembered per worker before the memory starts afresh
_LOCK = threading.Lock()


def answer_instability(texts: Sequence[str]) -> list[float]:
    """For each question, the share of its one-word-out variants the serving model labels
    otherwise (see training.stability); each question is asked once per model version."""
    loaded = current_app.extensions["qc_models"].get_or_none()
    if loaded is None:
        return [NO_OPINION] * len(texts)
    model = getattr(loaded.classifier, "model", loaded.classifier)  # overrides fix exact texts
    with _LOCK:
        cache = current_app.extensions.setdefault("qc_instability", {})
        if cache.get("version") != loaded.id or len(cache.get("shares", ())) > _CACHE_LIMIT:
            cache.update(version=loaded.id, shares={})
        shares: dict[str, float | None] = cache["shares"]
        missing = [text for text in dict.fromkeys(texts) if text not in shares]
        if missing:
            found = instability(lambda batch: model.predict_labels(batch).fine, missing)
            shares.update(zip(missing, found, strict=True))
        return [NO_OPINION if shares[text] is None else shares[text] for text in texts]
