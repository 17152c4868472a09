"""What the inbox card shows of an item: its choices, the preselected label, each source's say
and the one override message; shared by the full page and the fragments the card prefetches."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template

from training import taxonomy

from ..extensions import db
from ..models import Correction
from ..services.review.card_sources import best_supported, card_sources
from ..services.review.inbox_items import InboxItem
from ..services.review.inbox_targets import question_state
from ..services.review.label_help import labels_with_help
from ..services.review.label_picker import label_codes
from ..services.review.merge_guard import contradicted_base_label, describe_flags
from ..services.review.neighbours import training_neighbours

MAX_CHOICES = 9  # keys 1 to 9


def base_label(item: InboxItem) -> str | None:
    """The training data's label of the item's question, if it has one."""
    base = contradicted_base_label(item.normalized, "")
    return base["fine"] if base else None


def choices_of(item: InboxItem, base: str | None) -> list[str]:
    """The labels offered as one-key choices: proposals, the training label, the model's
    label and its alternatives."""
    labels = [p.fine for p in item.proposals]
    if base:
        labels.append(base)
    if item.model_label:
        labels.append(item.model_label)
    labels += [a["fine"] for a in item.alternatives]
    return list(dict.fromkeys(label for label in labels if label in taxonomy.FINE_CLASSES))[
        :MAX_CHOICES
    ]


def help_by_label() -> dict[str, dict]:
    """Each fine class's name, definition and typical questions."""
    found = {}
    for coarse in labels_with_help():
        for fine in coarse["fine"]:
            found[fine["label"]] = fine
    return found


def visitor_notes(item: InboxItem) -> list[str]:
    """The merge guard's warnings on the visitors' proposals other than the training label's,
    which the card states once on its own."""
    ids = [i for p in item.proposals for i in p.correction_ids]
    sentences = []
    if ids:
        for correction in db.session.query(Correction).filter(Correction.id.in_(ids)):
            flags = {k: v for k, v in (correction.flags or {}).items() if k != "contradicts_base"}
            sentences += describe_flags(flags)
    return list(dict.fromkeys(sentences))


def override_message(base: str | None, dataset: str | None, label: str | None) -> str:
    """The one sentence shown when the chosen label contradicts the training data."""
    if not base or not label or label == base:
        return ""
    return (
        f"The training data ({dataset}) labels this question {base}; approving {label} overrides"
        " it. Press Enter again (or tick the box) to confirm."
    )


def card_context(item: InboxItem | None, at: int | None, total: int | None, args: dict) -> dict:
    """The template context of one card."""
    query_string = urlencode(args, doseq=True)
    if item is None:
        return {"item": None, "at": at, "total": total, "args": args, "query_string": query_string}
    base_row = contradicted_base_label(item.normalized, "")
    base = base_row["fine"] if base_row else None
    choices = choices_of(item, base)
    index = training_neighbours()
    default = best_supported(item, base, choices)
    return {
        "item": item,
        "at": at,
        "total": total,
        "args": args,
        "query_string": query_string,
        "choices": choices,
        "default": default,
        "base_label": base,
        "base_dataset": base_row["dataset"] if base_row else None,
        "override": override_message(base, base_row and base_row["dataset"], default),
        "sources": card_sources(item, base),
        "help": help_by_label(),
        "codes": label_codes(),
        "nearest": index.nearest_of_classes(item.question, choices, 2) if index else {},
        "notes": visitor_notes(item),
        "state": question_state(item.query_ids),
    }


def card_fragment(context: dict, form) -> str:
    """One card's HTML, from the template the full page includes too."""
    return render_template("admin/inbox_card_item.html", form=form, **context)
