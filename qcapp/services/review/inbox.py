"""The review inbox: every distinct stored question, ranked by how much a reviewer's look is worth.

An item is one normalised question (with the near-duplicates grouped under it), how often it
was asked and by how many clients. Each signal lies between 0 and 1:

* uncertainty ``u``: the doubt in the latest stored prediction of the question,
  ``u = ((1 - margin) + 3 (1 - fine confidence)) / 4``: the margin between the model's top two
  fine labels (it hesitates between two labels) and, weighed three times, the chosen fine
  label's own confidence (the probability may be spread over many labels, which a margin alone
  misses; on the tutorial dataset the confidence alone ranked the model's mistakes better than
  the margin alone). Both are stored with the prediction, so the classify path pays nothing.
  ``u`` is weighed by two second opinions, each between 0 and 1 (0.5 when it has none):

  - the neighbours ``n``: the similarity-weighted share of the question's 5 nearest training
    questions labelled otherwise than the model answers (the model disagrees with its own
    training data about questions like this one);
  - the stability ``s``: the share of the question's one-word-out variants that the serving
    model labels otherwise than the question itself (training.stability; an answer that rests
    on a single word, or changes with every variant, is more often wrong).

  ``u' = u * (0.5 + 0.5 n) * (0.5 + 0.5 s)``. Since the fine confidence is at least the margin,
  ``u'`` is never more than ``1 - margin``, which lets the smallest margins (an index) bound
  which questions can rank high.
* disagreement ``d``: visitor proposals that differ from the model, each counted by its
  client's trust ``t`` (see ``trust``): ``dissent = 1 - prod(1 - t)`` over the differing ones,
  ``support`` the same over confirmations, ``d = dissent * (1 - support / 2)``; at least 0.5
  when the proposals name two labels or more (visitors disagree with each other).
* finder ``f``: the label-issue finder's open score where the question is also a training row
  (a doubtful label's margin p(suggested) - p(given); 0.5 for a near-duplicate).
* traffic ``a``: 1 - exp(-(times asked - 1) / 10): 0 for a question asked once, 0.63 at 11.

``priority = 0.45 u' + 0.30 d + 0.15 f + 0.10 a`` where ``u'`` is the weighed uncertainty.

A question leaves the inbox once a reviewer decided it (an approved or rejected correction on
it) unless visitors have proposed labels since, which wait for review. Near-duplicates (the
finder's similarity, at least 0.9) among the highest-ranked candidates form one item, led by its
highest-ranked question; a reviewer can split a question out of its group for good.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import distinct, func, select

from training.label_issues import similar_groups

from ...extensions import db
from ...models import AuditEvent, Correction, Example, LabelIssue, Prediction, Query
from ..data.datasets import active_dataset
from .neighbours import training_neighbours
from .stability import answer_instability
from .trust import NEUTRAL, client_trust

WEIGHTS = {"uncertainty": 0.45, "disagreement": 0.30, "finder": 0.15, "traffic": 0.10}
# Candidates considered for grouping and the neighbours' opinion, per item shown.
POOL_FACTOR = 2
MIN_POOL = 120
NEAR_DUPLICATE_FINDER_SCORE = 0.5
SPLIT_ACTION = "inbox_split"
# Smallest-margin predictions read per pooled candidate (several may share a question).
CANDIDATE_FACTOR = 3
TRAFFIC_SCALE = 10.0
COARSE_DOUBT = 0.5  # below this coarse confidence a reason names the coarse class's doubt
_IN_CHUNK = 500  # names per IN (...) list, well within every driver's parameter limit


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
            "signals": {name: round(value, 4) for name, value in self.signals.items()},
            "group": [
                {"item": m.query_id, "question": m.question, "asked": m.asked} for m in self.members
            ],
        }


@dataclass
class _Candidate:
    normalized: str
    asked: int
    clients: int
    latest_id: int
    margin: float | None
    confidence: float | None = None
    coarse_confidence: float | None = None
    proposals: list[tuple[int, str, str | None]] = field(default_factory=list)
    finder: dict | None = None
    base: float = 0.0


def _question_stats(normalized: Iterable[str]) -> list[_Candidate]:
    """These stored questions with their traffic and their latest prediction's margin.

    The latest answer is the one that matters (earlier ones may come from older versions), and
    reading one prediction per question keeps a question asked thousands of times cheap.
    """
    names = list(dict.fromkeys(normalized))
    rows = []
    for start in range(0, len(names), _IN_CHUNK):
        rows += db.session.execute(
            select(
                Query.normalized,
                func.count(Query.id),
                func.count(distinct(Query.client_hash)),
                func.max(Query.id),
            )
            .where(Query.normalized.in_(names[start : start + _IN_CHUNK]))
            .group_by(Query.normalized)
        ).all()
    latest = [int(row[3]) for row in rows]
    doubts: dict[int, tuple] = {}
    for start in range(0, len(latest), _IN_CHUNK):
        for query_id, *values in db.session.execute(
            select(
                Prediction.query_id,
                Prediction.margin,
                Prediction.fine_confidence,
                Prediction.coarse_confidence,
            ).where(Prediction.query_id.in_(latest[start : start + _IN_CHUNK]))
        ):
            doubts[query_id] = tuple(values)
    return [
        _Candidate(
            row[0], int(row[1]), int(row[2]), int(row[3]), *doubts.get(int(row[3]), (None,) * 3)
        )
        for row in rows
    ]


def _uncertainty(
    margin: float | None, confidence: float | None, coarse_confidence: float | None
) -> float:
    """The doubt of a stored prediction (see the module's docstring); 0.5 without one."""
    if margin is None:
        return 0.5
    if confidence is None:
        return 1.0 - float(margin)
    return ((1.0 - float(margin)) + 3 * (1.0 - float(confidence))) / 4


def _uncertain_questions(count: int) -> dict[str, float]:
    """The questions of the ``count`` stored predictions with the smallest margins, and those."""
    found: dict[str, float] = {}
    for normalized, margin in db.session.execute(
        select(Query.normalized, Prediction.margin)
        .join(Prediction, Prediction.query_id == Query.id)
        .where(Prediction.margin.is_not(None))
        .order_by(Prediction.margin, Prediction.id)
        .limit(count)
    ):
        found.setdefault(normalized, float(margin))
    return found


def _proposal_margins() -> dict[str, float]:
    """The smallest margin among the predictions that visitors' pending proposals answer."""
    found: dict[str, float] = {}
    for normalized, margin in db.session.execute(
        select(Query.normalized, Prediction.margin)
        .join(Correction, Correction.query_id == Query.id)
        .join(Prediction, Prediction.query_id == Query.id)
        .where(Correction.status == "pending")
    ):
        value = 0.5 if margin is None else float(margin)
        found[normalized] = min(value, found.get(normalized, value))
    return found


def _distinct_questions() -> int:
    return db.session.scalar(select(func.count(distinct(Query.normalized)))) or 0


def _decided_questions() -> set[str]:
    return set(
        db.session.scalars(
            select(Query.normalized)
            .join(Correction, Correction.query_id == Query.id)
            .where(Correction.status.in_(("approved", "rejected")))
            .distinct()
        )
    )


def _pending_proposals() -> dict[str, list[tuple[int, str, str | None]]]:
    """Pending visitor proposals by question: (correction id, fine label, client)."""
    found: dict[str, list[tuple[int, str, str | None]]] = defaultdict(list)
    for normalized, correction_id, fine, client in db.session.execute(
        select(Query.normalized, Correction.id, Correction.fine, Correction.client_hash)
        .join(Query, Correction.query_id == Query.id)
        .where(Correction.status == "pending")
        .order_by(Correction.id)
    ):
        found[normalized].append((correction_id, fine, client))
    return found


def _finder_findings() -> dict[str, dict]:
    """The strongest open label-issue finding of each training question of the active dataset."""
    dataset = active_dataset()
    if dataset is None:
        return {}
    found: dict[str, dict] = {}
    for normalized, kind, score, given, suggested in db.session.execute(
        select(
            Example.normalized,
            LabelIssue.kind,
            LabelIssue.score,
            LabelIssue.given_fine,
            LabelIssue.suggested_fine,
        )
        .join(Example, LabelIssue.example_id == Example.id)
        .where(LabelIssue.status == "open", LabelIssue.dataset_id == dataset.id)
    ):
        value = NEAR_DUPLICATE_FINDER_SCORE if kind == "near_duplicate" else float(score)
        if value > found.get(normalized, {}).get("score", -1.0):
            found[normalized] = {
                "kind": kind,
                "score": min(1.0, max(0.0, value)),
                "given": given,
                "suggested": suggested,
            }
    return found


def split_questions() -> set[str]:
    """Questions a reviewer split out of their groups: they always stand alone."""
    return {
        (details or {}).get("normalized")
        for details in db.session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == SPLIT_ACTION)
        )
    }


def _latest_predictions(query_ids: list[int]) -> dict[int, Prediction]:
    if not query_ids:
        return {}
    return {
        prediction.query_id: prediction
        for prediction in db.session.scalars(
            select(Prediction).where(Prediction.query_id.in_(query_ids))
        )
    }


def _disagreement(
    proposals: list[tuple[int, str, str | None]], model_label: str | None, trust: dict
) -> float:
    dissent_keep, support_keep = 1.0, 1.0
    for _id, fine, client in proposals:
        weight = trust.get(client, NEUTRAL)
        if fine != model_label:
            dissent_keep *= 1 - weight
        else:
            support_keep *= 1 - weight
    value = (1 - dissent_keep) * (1 - (1 - support_keep) / 2)
    if len({fine for _id, fine, _client in proposals}) > 1:
        value = max(value, 0.5)
    return value


def _traffic(asked: int) -> float:
    """0 for a question asked once, rising to 1 as it is asked again (63% at 11 times)."""
    return 1.0 - math.exp(-(asked - 1) / TRAFFIC_SCALE)


def _collect(pool_size: int, with_proposals: bool) -> tuple[list[_Candidate], int]:
    """The best candidates by their upper-bound priority, and how many questions are open.

    Only questions that can rank high are read: those with pending proposals or a finding of
    the label-issue finder, and those of the smallest margins (an index keeps that cheap on a
    large table). Another question's priority is at most 0.45 u + 0.10, with ``u`` no more than
    the pool's smallest-margin cut-off's.
    """
    decided = _decided_questions()
    pending = _pending_proposals()
    finder = _finder_findings()
    # A first bound from what is cheap to read (a proposal's own prediction, the smallest
    # margins): only the best of these get their traffic and mean margin counted.
    margins = _proposal_margins()
    if not with_proposals:
        for normalized, margin in _uncertain_questions(pool_size * CANDIDATE_FACTOR).items():
            margins[normalized] = min(margin, margins.get(normalized, margin))
        for normalized in finder:
            margins.setdefault(normalized, 0.5)

    def bound(normalized: str) -> float:
        return (
            WEIGHTS["uncertainty"] * (1.0 - margins[normalized])
            + WEIGHTS["disagreement"] * (1.0 if normalized in pending else 0.0)
            + WEIGHTS["finder"] * (finder[normalized]["score"] if normalized in finder else 0.0)
        )

    names = [
        n
        for n in margins
        if (n in pending or n not in decided) and (n in pending or not with_proposals)
    ]
    names = heapq.nlargest(pool_size * CANDIDATE_FACTOR, names, key=bound)
    open_candidates = []
    for candidate in _question_stats(names):
        candidate.proposals = pending.get(candidate.normalized, [])
        candidate.finder = finder.get(candidate.normalized)
        # Everything but the neighbours' opinion (taken as its most, 1) and the disagreement
        # (taken as its most when there are proposals): the pool is cut on this upper bound.
        uncertainty = _uncertainty(
            candidate.margin, candidate.confidence, candidate.coarse_confidence
        )
        candidate.base = (
            WEIGHTS["uncertainty"] * uncertainty
            + WEIGHTS["disagreement"] * (1.0 if candidate.proposals else 0.0)
            + WEIGHTS["finder"] * (candidate.finder["score"] if candidate.finder else 0.0)
            + WEIGHTS["traffic"] * _traffic(candidate.asked)
        )
        open_candidates.append(candidate)
    if with_proposals:
        total = len(pending)
    else:
        total = _distinct_questions() - len(decided - set(pending))
    pool = heapq.nlargest(pool_size, open_candidates, key=lambda c: (c.base, c.asked, c.latest_id))
    return pool, total


def _score(pool: list[_Candidate]) -> list[InboxItem]:
    """Full priorities and reasons of the pooled candidates, as ungrouped items."""
    predictions = _latest_predictions([c.latest_id for c in pool])
    texts = {
        query_id: text
        for query_id, text in db.session.execute(
            select(Query.id, Query.text).where(Query.id.in_([c.latest_id for c in pool]))
        )
    }
    trust = client_trust(client for c in pool for _id, _fine, client in c.proposals)
    index = training_neighbours()
    labels = [getattr(predictions.get(c.latest_id), "fine", None) for c in pool]
    opinions = (
        index.disagreement([texts[c.latest_id] for c in pool], labels)
        if index is not None and pool
        else [0.5] * len(pool)
    )
    shares = answer_instability([texts[c.latest_id] for c in pool])
    items = []
    for candidate, model_label, opinion, share in zip(pool, labels, opinions, shares, strict=True):
        prediction = predictions.get(candidate.latest_id)
        margin = None if candidate.margin is None else float(candidate.margin)
        doubt = _uncertainty(margin, candidate.confidence, candidate.coarse_confidence)
        uncertainty = doubt * (0.5 + 0.5 * opinion) * (0.5 + 0.5 * share)
        signals = {
            "uncertainty": uncertainty,
            "neighbours": opinion,
            "stability": share,
            "disagreement": _disagreement(candidate.proposals, model_label, trust),
            "finder": candidate.finder["score"] if candidate.finder else 0.0,
            "traffic": _traffic(candidate.asked),
        }
        item = InboxItem(
            query_id=candidate.latest_id,
            question=texts[candidate.latest_id],
            normalized=candidate.normalized,
            asked=candidate.asked,
            clients=candidate.clients,
            margin=margin,
            model_label=model_label,
            confidence=prediction.fine_confidence if prediction else None,
            coarse_confidence=prediction.coarse_confidence if prediction else None,
            alternatives=list((prediction.scores or {}).get("alternatives", []))
            if prediction
            else [],
            proposals=_proposals(candidate.proposals, trust),
            finder=candidate.finder,
            signals=signals,
            priority=sum(WEIGHTS[name] * signals[name] for name in WEIGHTS),
        )
        items.append(item)
    return items


def _proposals(rows: list[tuple[int, str, str | None]], trust: dict) -> list[Proposal]:
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


def _group(items: list[InboxItem]) -> list[InboxItem]:
    """Near-duplicates joined under their highest-ranked question, in priority order."""
    items = sorted(items, key=lambda i: (-i.priority, -i.asked, -i.query_id))
    split = split_questions()
    index = training_neighbours()
    groups = similar_groups(
        [item.question for item in items],
        apart=[item.normalized in split for item in items],
        vectorizer=index.vectorizer if index is not None else None,
    )
    grouped = []
    for indices in groups:
        lead, rest = items[indices[0]], [items[i] for i in indices[1:]]
        for other in rest:
            lead.members.append(
                Member(other.query_id, other.question, other.normalized, other.asked)
            )
            lead.asked += other.asked
            lead.clients += other.clients
            lead.proposals = _merge_proposals(lead.proposals, other.proposals)
        grouped.append(lead)
    return sorted(grouped, key=lambda i: (-i.priority, -i.asked, -i.query_id))


def _merge_proposals(first: list[Proposal], second: list[Proposal]) -> list[Proposal]:
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


def _explain(item: InboxItem) -> None:
    """Fill in the consensus and the reasons a reviewer reads."""
    minimum = int(current_app.config["CONSENSUS_MIN"])
    if len(item.proposals) == 1 and item.proposals[0].clients >= minimum:
        item.consensus = item.proposals[0].fine
    reasons = []
    signals = item.signals
    if item.margin is not None and item.margin < 0.5 and item.alternatives:
        reasons.append(
            f"The model hesitates: {item.model_label} leads {item.alternatives[0]['fine']} "
            f"by {item.margin:.2f}."
        )
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
        if item.finder["kind"] == "near_duplicate":
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


def ranked_inbox(
    limit: int = 50, offset: int = 0, *, with_proposals: bool = False
) -> tuple[list[InboxItem], int]:
    """One page of the inbox, highest priority first, and how many questions wait in all."""
    pool_size = max(MIN_POOL, (offset + limit) * POOL_FACTOR)
    pool, total = _collect(pool_size, with_proposals)
    items = _group(_score(pool))
    page = items[offset : offset + limit]
    for item in page:
        _explain(item)
    return page, total


def item_for_query(query_id: int, *, search: int = MIN_POOL) -> InboxItem | None:
    """The inbox item holding this query's question, else one built for it alone (or None).

    Any stored question can be labelled this way, also one that already left the inbox.
    """
    query = db.session.get(Query, query_id) if 0 < query_id < 2**31 else None
    if query is None:
        return None
    items, _total = ranked_inbox(limit=search)
    for item in items:
        if query.normalized in {item.normalized, *(m.normalized for m in item.members)}:
            return item
    asked, clients, latest, margin, confidence, coarse_confidence = db.session.execute(
        select(
            func.count(Query.id),
            func.count(distinct(Query.client_hash)),
            func.max(Query.id),
            func.avg(Prediction.margin),
            func.avg(Prediction.fine_confidence),
            func.avg(Prediction.coarse_confidence),
        )
        .outerjoin(Prediction, Prediction.query_id == Query.id)
        .where(Query.normalized == query.normalized)
    ).one()
    candidate = _Candidate(
        query.normalized,
        int(asked),
        int(clients),
        int(latest),
        margin,
        confidence,
        coarse_confidence,
    )
    candidate.proposals = _pending_proposals().get(query.normalized, [])
    candidate.finder = _finder_findings().get(query.normalized)
    [item] = _score([candidate])
    _explain(item)
    return item
