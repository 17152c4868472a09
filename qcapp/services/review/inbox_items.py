"""An inbox item as a reviewer sees it: the question, its group, the visitors' proposals and the
reasons it is in the inbox."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from ...models import IssueKind
from .trust import NEUTRAL

# How much each signal weighs in an item's priority (the ranking: services/review/inbox.py).
WEIGHTS = {"uncertainty": 0.45, "disagreement": 0.30, "finder": 0.15, "traffic": 0.10}

COARSE_DOUBT = 0.5  # below this coarse confidence a reason names the coarse class's doubt


@dataclass
class Proposal:
    """Pending visitor proposals of one label for an item."""

    fine: str
    clients: int
    count: int
    trust: float
    correction_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.fine,
            "count": self.count,
            "clients": self.clients,
            "trust": round(self.trust, 3),
        }


@dataclass
class Member:
    """One distinct question of an item."""

    query_id: int
    question: str
    normalized: str
    asked: int


@dataclass
class InboxItem:
    """A question (and its near-duplicates) waiting for a reviewer, with why it is here."""

    query_id: int  # the latest query of the leading question: the item's handle in the admin
    question: str
    normalized: str
    asked: int
    clients: int
    margin: float | None
    model_label: str | None = None
    confidence: float | None = None
    coarse_confidence: float | None = None
    alternatives: list[dict] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    finder: dict | None = None
    signals: dict[str, float] = field(default_factory=dict)
    priority: float = 0.0
    reasons: list[str] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    consensus: str | None = None
    # The scope check's verdict on the leading question (training.SCOPE_REASONS names the reason).
    in_scope: bool = True
    scope_reason: str | None = None

    @property
    def query_ids(self) -> list[int]:
        """The latest query of every question the item's decision labels."""
        return [self.query_id] + [member.query_id for member in self.members]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "item": self.query_id,
            "question": self.question,
            "asked": self.asked,
            "clients": self.clients,
            "priority": round(self.priority, 4),
            "reasons": self.reasons,
            "model_label": self.model_label,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "margin": None if self.margin is None else round(self.margin, 4),
            "proposals": [proposal.as_dict() for proposal in self.proposals],
            "consensus": self.consensus,
            "in_scope": self.in_scope,
            "scope_reason": self.scope_reason,
            "signals": {name: round(value, 4) for name, value in self.signals.items()},
            "group": [
                {"item": m.query_id, "question": m.question, "asked": m.asked} for m in self.members
            ],
        }


def proposals_from_rows(rows: list[tuple[int, str, str | None]], trust: dict) -> list[Proposal]:
    by_label: dict[str, list[tuple[int, str | None]]] = defaultdict(list)
    for correction_id, fine, client in rows:
        by_label[fine].append((correction_id, client))
    proposals = []
    for fine, entries in by_label.items():
        clients = {client for _id, client in entries if client}
        weights = [trust.get(client, NEUTRAL) for client in clients] or [NEUTRAL]
        proposals.append(
            Proposal(
                fine=fine,
                clients=len(clients),
                count=len(entries),
                trust=sum(weights) / len(weights),
                correction_ids=[correction_id for correction_id, _client in entries],
            )
        )
    return sorted(proposals, key=lambda p: (-p.clients, -p.count, p.fine))


def merge_proposals(first: list[Proposal], second: list[Proposal]) -> list[Proposal]:
    merged: dict[str, Proposal] = {p.fine: Proposal(**vars(p)) for p in first}
    for proposal in second:
        if proposal.fine in merged:
            target = merged[proposal.fine]
            total = target.clients + proposal.clients
            if total:
                target.trust = (
                    target.trust * target.clients + proposal.trust * proposal.clients
                ) / total
            target.clients = total
            target.count += proposal.count
            target.correction_ids = target.correction_ids + proposal.correction_ids
        else:
            merged[proposal.fine] = Proposal(**vars(proposal))
    return sorted(merged.values(), key=lambda p: (-p.clients, -p.count, p.fine))


def explain(item: InboxItem) -> None:
    """Fill in the consensus and the reasons a reviewer reads."""
    minimum = int(current_app.config["CONSENSUS_MIN"])
    if len(item.proposals) == 1 and item.proposals[0].clients >= minimum:
        item.consensus = item.proposals[0].fine
    reasons = []
    signals = item.signals
    if item.margin is not None and item.margin < 0.5 and item.alternatives:
        # Worded in the numbers the card shows (whole percentages), highest first: the answer
        # can trail a class of another coarse class when its own coarse class got more in all.
        def shown(confidence: float | None) -> int:
            return int(f"{(confidence or 0.0) * 100:.0f}")

        answer = (item.model_label, shown(item.confidence))
        others = sorted(
            ((a["fine"], shown(a["confidence"])) for a in item.alternatives), key=lambda c: -c[1]
        )
        outranked = others[0][1] > answer[1]
        (first, high), (second, low) = (others[0], answer) if outranked else (answer, others[0])
        if high == low:
            reason = f"The model hesitates: {first} and {second} both get {high}%"
        else:
            reason = (
                f"The model hesitates: {first} ({high}%) leads {second} ({low}%) "
                f"by {high - low} points"
            )
        if outranked:
            reason += f"; it answers {item.model_label}, as its coarse class gets more in all"
        reasons.append(reason + ".")
    elif item.margin is None:
        reasons.append("No stored prediction for this question.")
    if item.coarse_confidence is not None and item.coarse_confidence < COARSE_DOUBT:
        reasons.append(
            f"The model is unsure even of the kind of answer: {item.model_label.split(':')[0]} "
            f"at {item.coarse_confidence:.2f}."
        )
    if signals.get("stability", 0) > 0.5:
        reasons.append(
            "The model changes its answer when a single word is left out "
            f"({signals['stability']:.0%} of the variants)."
        )
    if signals.get("neighbours", 0) >= 0.5:
        reasons.append(
            f"Most similar training questions carry another label than {item.model_label}."
        )
    dissenting = [p for p in item.proposals if p.fine != item.model_label]
    if dissenting:
        reasons.append(
            "Visitors propose "
            + ", ".join(f"{p.fine} ({p.count}×, trust {p.trust:.2f})" for p in dissenting)
            + f" instead of {item.model_label}."
        )
    confirming = [p for p in item.proposals if p.fine == item.model_label]
    if confirming:
        reasons.append(f"{confirming[0].count} visitor(s) confirm {item.model_label}.")
    if len(item.proposals) > 1:
        reasons.append("Visitors disagree with each other.")
    if item.consensus:
        reasons.append(
            f"Consensus: {item.proposals[0].clients} clients propose {item.consensus} "
            "and nobody another label."
        )
    if item.finder:
        if item.finder["kind"] == IssueKind.NEAR_DUPLICATE:
            reasons.append("The label-issue finder found a near-duplicate with another label.")
        else:
            reasons.append(
                f"The label-issue finder doubts the training label {item.finder['given']} "
                f"(suggests {item.finder['suggested']}, score {item.finder['score']:.2f})."
            )
    if item.asked > 1:
        reasons.append(f"Asked {item.asked} times by {item.clients} client(s).")
    if item.members:
        reasons.append(f"Groups {len(item.members) + 1} near-duplicate questions.")
    item.reasons = reasons or ["Not reviewed yet."]
