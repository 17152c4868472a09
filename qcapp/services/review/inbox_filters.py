"""Filters of the review inbox: what a reviewer searches for, parsed once from a request's args.

Every filter but the reason is a condition on stored rows and goes into SQL: the inbox then
ranks only the questions that match, so a narrow filter is cheaper than the whole inbox. The
reason (the signal that weighs most in an item's priority) is known only once an item is
scored, so it is checked on the scored items; the exact label and confidence of the latest
prediction are checked there too, since SQL matches any prediction of the question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sqlalchemy import and_, case, exists, func, or_, select

from training import taxonomy

from ...extensions import db
from ...models import Correction, CorrectionStatus, DiscardedQuestion, Prediction, Query
from .feedback import InvalidCorrection
from .inbox_items import WEIGHTS

# The signal that drives an item, as a reviewer names it; value: the signals it stands for.
REASONS = {
    "model": ("uncertainty",),
    "visitors": ("disagreement",),
    "finder": ("finder",),
    "traffic": ("traffic",),
}
REASON_WORDS = {
    "model": "the model is unsure",
    "visitors": "visitors disagree",
    "finder": "the label-issue finder doubts the label",
    "traffic": "it is asked often",
}
SCOPES = {"all": "in scope or not", "in": "in scope", "out": "out of scope"}
STATES = {"open": "waiting for review", "reviewed": "already reviewed"}
MAX_TEXT = 200
MIN_CLIENT_PREFIX = 4
CLIENT_PATTERN = re.compile(r"[0-9a-f]{4,64}")


class InvalidFilter(InvalidCorrection):
    """A filter value the inbox cannot use; its message says which and why."""

    def __init__(self, message: str):
        super().__init__(message, "invalid_filter")


@dataclass(frozen=True)
class InboxFilter:
    """What a reviewer narrows the inbox to; the default matches what the plain inbox shows."""

    text: str = ""
    label: str = ""  # the model's fine label, or a coarse class
    proposed: str = ""  # a pending visitor proposal's fine label, or a coarse class
    client: str = ""  # a prefix of a client's fingerprint
    reason: str = ""  # a key of REASONS
    scope: str = "all"
    min_confidence: float | None = None
    max_confidence: float | None = None
    state: str = "open"
    with_proposals: bool = False

    @property
    def active(self) -> bool:
        """Whether anything narrows the inbox (the default order of everything otherwise)."""
        return self != InboxFilter()

    @property
    def in_sql(self) -> bool:
        """Whether a condition goes into SQL (else the plain ranking's bounded reads serve)."""
        return bool(
            self.text
            or self.label
            or self.proposed
            or self.client
            or self.scope != "all"
            or self.min_confidence is not None
            or self.max_confidence is not None
            or self.state != "open"
        )

    def as_args(self) -> dict[str, str]:
        """The filter as URL arguments: only what differs from the default."""
        args = {}
        default = InboxFilter()
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value == getattr(default, spec.name):
                continue
            name = "proposals" if spec.name == "with_proposals" else spec.name
            if isinstance(value, bool):
                value = "1"
            elif isinstance(value, float):
                value = f"{value:g}"
            args[name] = value
        return args

    def describe(self) -> str:
        """The filter in words, for a confirmation page."""
        parts = []
        if self.text:
            parts.append(f"question contains “{self.text}”")
        if self.label:
            parts.append(f"model's label {self.label}")
        if self.proposed:
            parts.append(f"visitors propose {self.proposed}")
        if self.client:
            parts.append(f"client {self.client}…")
        if self.reason:
            parts.append(f"mainly because {REASON_WORDS[self.reason]}")
        if self.scope != "all":
            parts.append(SCOPES[self.scope])
        if self.min_confidence is not None:
            parts.append(f"confidence at least {self.min_confidence:g}")
        if self.max_confidence is not None:
            parts.append(f"confidence at most {self.max_confidence:g}")
        if self.state != "open":
            parts.append(STATES[self.state])
        if self.with_proposals:
            parts.append("with visitor proposals")
        return "; ".join(parts) if parts else "every open item"


def _label(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        return ""
    for known in (*taxonomy.COARSE_LABELS, *taxonomy.FINE_LABELS):
        if value.lower() == known.lower():
            return known
    raise InvalidFilter(
        f"{what}: “{value[:40]}” is neither a fine label (like HUM:ind) nor a coarse class."
    )


def _confidence(value: str, what: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0.0 <= number <= 1.0:
        raise InvalidFilter(f"{what} must be a number from 0 to 1, not “{value[:20]}”.")
    return number


def _choice(value: str, allowed: Mapping[str, str], what: str, default: str) -> str:
    value = value.strip().lower() or default
    if value not in allowed:
        raise InvalidFilter(f"{what} must be one of {', '.join(allowed)}, not “{value[:20]}”.")
    return value


def inbox_filter_from(args: Mapping[str, str]) -> InboxFilter:
    """The filter these request arguments ask for, or InvalidFilter naming the bad value."""
    text = " ".join(args.get("text", "").split())
    if len(text) > MAX_TEXT:
        raise InvalidFilter(f"The search text may be at most {MAX_TEXT} characters.")
    client = args.get("client", "").strip().lower()
    if client and not CLIENT_PATTERN.fullmatch(client):
        raise InvalidFilter(
            f"A client is named by at least {MIN_CLIENT_PREFIX} hexadecimal characters of its"
            " fingerprint."
        )
    reason = args.get("reason", "").strip().lower()
    if reason:
        reason = _choice(reason, REASON_WORDS, "The reason", "")
    low = _confidence(args.get("min_confidence", ""), "The lowest confidence")
    high = _confidence(args.get("max_confidence", ""), "The highest confidence")
    if low is not None and high is not None and low > high:
        raise InvalidFilter("The lowest confidence is above the highest.")
    return InboxFilter(
        text=text,
        label=_label(args.get("label", ""), "The model's label"),
        proposed=_label(args.get("proposed", ""), "The proposed label"),
        client=client,
        reason=reason,
        scope=_choice(args.get("scope", ""), SCOPES, "The scope", "all"),
        min_confidence=low,
        max_confidence=high,
        state=_choice(args.get("state", ""), STATES, "The state", "open"),
        with_proposals=args.get("proposals", "") in ("1", "on", "true"),
    )


def _label_condition(column_fine, column_coarse, label: str):
    return column_fine == label if ":" in label else column_coarse == label


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matching_margins(filters: InboxFilter) -> dict[str, tuple[float, bool]]:
    """Every question a query of which meets the SQL-side filters, with its smallest margin and
    whether a query of it is in scope (out-of-scope ones rank last, so they are pooled last).

    A question without a prediction gets 0.5, like one the plain inbox reads by its proposals.
    """
    conditions = []
    if filters.text:
        # Normalised questions are lower-cased; the text search is case-insensitive through it.
        conditions.append(Query.normalized.like(_like(filters.text.lower()), escape="\\"))
    if filters.scope != "all":
        conditions.append(Query.in_scope.is_(filters.scope == "in"))
    if filters.label:
        conditions.append(_label_condition(Prediction.fine, Prediction.coarse, filters.label))
    if filters.min_confidence is not None:
        conditions.append(Prediction.fine_confidence >= filters.min_confidence)
    if filters.max_confidence is not None:
        conditions.append(Prediction.fine_confidence <= filters.max_confidence)
    if filters.client:
        prefix = filters.client + "%"
        conditions.append(
            or_(
                Query.client_hash.like(prefix),
                exists().where(
                    Correction.query_id == Query.id, Correction.client_hash.like(prefix)
                ),
            )
        )
    if filters.proposed or filters.with_proposals:
        proposal = [Correction.query_id == Query.id, Correction.status == CorrectionStatus.PENDING]
        if filters.proposed:
            proposal.append(_label_condition(Correction.fine, Correction.coarse, filters.proposed))
        conditions.append(exists().where(and_(*proposal)))
    if filters.state == "reviewed":
        # Only decided questions can match: reading them first spares grouping every query.
        decided = (
            select(Query.normalized)
            .join(Correction, Correction.query_id == Query.id)
            .where(Correction.status.in_((CorrectionStatus.APPROVED, CorrectionStatus.REJECTED)))
        )
        conditions.append(Query.normalized.in_(decided.union(select(DiscardedQuestion.normalized))))
    statement = (
        select(
            Query.normalized,
            func.min(Prediction.margin),
            func.max(case((Query.in_scope.is_(False), 0), else_=1)),
        )
        .outerjoin(Prediction, Prediction.query_id == Query.id)
        .where(*conditions)
        .group_by(Query.normalized)
    )
    return {
        normalized: (0.5 if margin is None else float(margin), bool(in_scope))
        for normalized, margin, in_scope in db.session.execute(statement)
    }


def item_matches(item, filters: InboxFilter) -> bool:
    """Whether a scored item meets the filters checked after scoring (see the docstring)."""
    if filters.label and not (
        item.model_label
        and (item.model_label == filters.label or item.model_label.split(":")[0] == filters.label)
    ):
        return False
    confidence = item.confidence
    if filters.min_confidence is not None and (
        confidence is None or confidence < filters.min_confidence
    ):
        return False
    if filters.max_confidence is not None and (
        confidence is None or confidence > filters.max_confidence
    ):
        return False
    return not filters.reason or driving_reason(item.signals) == filters.reason


def driving_reason(signals: Mapping[str, float], weights: Mapping[str, float] | None = None) -> str:
    """The reason whose signal weighs most in the priority."""
    weights = weights or WEIGHTS
    return max(
        REASONS,
        key=lambda reason: sum(weights[s] * signals.get(s, 0.0) for s in REASONS[reason]),
    )
