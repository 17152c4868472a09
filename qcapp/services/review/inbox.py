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
it) unless visitors have proposed labels since, which wait for review; a discarded text (not a
question at all) leaves it for good. Near-duplicates (the
finder's similarity, at least 0.9) among the highest-ranked candidates form one item, led by its
highest-ranked question; a reviewer can split a question out of its group for good.

Out-of-scope items (the scope check found the text is no English question: ``Query.in_scope``)
rank below every real question, each part by priority, unless a filter asks for them alone.
Filters (``inbox_filters``) narrow the candidates in SQL; the ranking of what matches is the same.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import replace

from sqlalchemy import distinct, func, select

from training import similar_groups

from ...extensions import db
from ...models import Prediction, Query
from .discards import discarded_questions
from .inbox_filters import InboxFilter, item_matches, matching_margins
from .inbox_items import InboxItem, Member, explain, merge_proposals, proposals_from_rows
from .inbox_reads import (
    Candidate,
    decided_questions,
    distinct_questions,
    finder_findings,
    latest_predictions,
    pending_proposals,
    proposal_margins,
    question_stats,
    split_questions,
    uncertain_questions,
)
from .neighbours import training_neighbours
from .stability import answer_instability
from .trust import NEUTRAL, client_trust

WEIGHTS = {"uncertainty": 0.45, "disagreement": 0.30, "finder": 0.15, "traffic": 0.10}
# Candidates considered for grouping and the neighbours' opinion, per item shown.
POOL_FACTOR = 2
MIN_POOL = 120
# Smallest-margin predictions read per pooled candidate (several may share a question).
CANDIDATE_FACTOR = 3
TRAFFIC_SCALE = 10.0
REASON_POOL_FACTOR = 4


def _uncertainty(
    margin: float | None, confidence: float | None, coarse_confidence: float | None
) -> float:
    """The doubt of a stored prediction (see the module's docstring); 0.5 without one."""
    if margin is None:
        return 0.5
    if confidence is None:
        return 1.0 - float(margin)
    return ((1.0 - float(margin)) + 3 * (1.0 - float(confidence))) / 4


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


def _open(
    names, filters: InboxFilter, pending: dict, decided: set[str], discarded: set[str]
) -> list[str]:
    """The names the filter's state admits: open ones (pending proposals, or never decided), or
    reviewed ones (decided, nothing pending); only those with proposals when it asks for them."""
    if filters.state == "reviewed":
        return [n for n in names if n in decided and n not in pending]
    if filters.with_proposals:
        return [n for n in names if n in pending]
    return [n for n in names if n in pending or (n not in decided and n not in discarded)]


def _collect(pool_size: int, filters: InboxFilter) -> tuple[list[Candidate], int]:
    """The best candidates by their upper-bound priority, and how many questions match.

    Without a filter for SQL, only questions that can rank high are read: those with pending
    proposals or a finding of the label-issue finder, and those of the smallest margins (an
    index keeps that cheap on a large table); in-scope ones first, out-of-scope ones only when
    too few are left to fill the pool, as they rank below every in-scope item. Another
    question's priority is at most 0.45 u + 0.10, with ``u`` no more than the pool's
    smallest-margin cut-off's. With one, every matching question is a candidate.
    """
    discarded = discarded_questions()
    # A discarded text stays out, even when visitors propose labels for it afterwards.
    decided = decided_questions() | discarded
    pending = {n: p for n, p in pending_proposals().items() if n not in discarded}
    finder = finder_findings()
    scopes: dict[str, bool] = {}
    if filters.in_sql:
        matching = matching_margins(filters)
        margins = {n: margin for n, (margin, _in_scope) in matching.items()}
        scopes = {n: in_scope for n, (_margin, in_scope) in matching.items()}
    else:
        # A first bound from what is cheap to read (a proposal's own prediction, the smallest
        # margins): only the best of these get their traffic and mean margin counted.
        margins = proposal_margins()
        if not filters.with_proposals:
            count = pool_size * CANDIDATE_FACTOR
            for normalized, margin in uncertain_questions(count, in_scope=True).items():
                margins[normalized] = min(margin, margins.get(normalized, margin))
            if len(_open(margins, filters, pending, decided, discarded)) < pool_size:
                for normalized, margin in uncertain_questions(count, in_scope=False).items():
                    scopes[normalized] = False
                    margins[normalized] = min(margin, margins.get(normalized, margin))
            for normalized in finder:
                margins.setdefault(normalized, 0.5)

    def bound(normalized: str) -> tuple[bool, float]:
        return (
            scopes.get(normalized, True),
            WEIGHTS["uncertainty"] * (1.0 - margins[normalized])
            + WEIGHTS["disagreement"] * (1.0 if normalized in pending else 0.0)
            + WEIGHTS["finder"] * (finder[normalized]["score"] if normalized in finder else 0.0),
        )

    names = _open(margins, filters, pending, decided, discarded)
    # Signals a reason needs: without proposals visitors cannot drive an item, nor the finder
    # without a finding.
    if filters.reason == "visitors":
        names = [n for n in names if n in pending]
    elif filters.reason == "finder":
        names = [n for n in names if n in finder]
    if filters.in_sql:
        total = len(names)
    elif filters.with_proposals:
        total = len(pending)
    else:
        total = distinct_questions() - len(decided - set(pending))
    names = heapq.nlargest(pool_size * CANDIDATE_FACTOR, names, key=bound)
    open_candidates = []
    for candidate in question_stats(names):
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
    pool = heapq.nlargest(
        pool_size, open_candidates, key=lambda c: (c.in_scope, c.base, c.asked, c.latest_id)
    )
    return pool, total


def _score(pool: list[Candidate]) -> list[InboxItem]:
    """Full priorities and reasons of the pooled candidates, as ungrouped items."""
    predictions = latest_predictions([c.latest_id for c in pool])
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
            proposals=proposals_from_rows(candidate.proposals, trust),
            finder=candidate.finder,
            in_scope=candidate.in_scope,
            scope_reason=candidate.scope_reason,
            signals=signals,
            priority=sum(WEIGHTS[name] * signals[name] for name in WEIGHTS),
        )
        items.append(item)
    return items


def _rank(item: InboxItem) -> tuple:
    """Real questions first, each part by priority; out-of-scope items below them."""
    return (not item.in_scope, -item.priority, -item.asked, -item.query_id)


def _group(items: list[InboxItem]) -> list[InboxItem]:
    """Near-duplicates joined under their highest-ranked question, in priority order."""
    items = sorted(items, key=_rank)
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
            lead.proposals = merge_proposals(lead.proposals, other.proposals)
        grouped.append(lead)
    return sorted(grouped, key=_rank)


def ranked_inbox(
    limit: int = 50,
    offset: int = 0,
    *,
    with_proposals: bool = False,
    filters: InboxFilter | None = None,
) -> tuple[list[InboxItem], int]:
    """One page of the inbox, highest priority first, and how many questions wait in all.

    ``filters`` narrows it (``inbox_filters``); the total then counts the matching questions.
    """
    filters = filters or InboxFilter()
    if with_proposals and not filters.with_proposals:
        filters = replace(filters, with_proposals=True)
    if filters.reason == "visitors" and not filters.in_sql:
        # Only items with proposals can be driven by visitors: their cheap read serves.
        filters = replace(filters, with_proposals=True)
    pool_size = max(MIN_POOL, (offset + limit) * POOL_FACTOR)
    if filters.reason:
        # The reason is known once scored: a wider pool finds more of the items it keeps.
        pool_size *= REASON_POOL_FACTOR
    pool, total = _collect(pool_size, filters)
    items = _group(_score(pool))
    if filters.active:
        items = [item for item in items if item_matches(item, filters)]
        if filters.reason:
            total = len(items)
    page = items[offset : offset + limit]
    for item in page:
        explain(item)
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
    candidate = Candidate(
        query.normalized,
        int(asked),
        int(clients),
        int(latest),
        margin,
        confidence,
        coarse_confidence,
    )
    candidate.in_scope, candidate.scope_reason = query.in_scope is not False, query.scope_reason
    candidate.proposals = pending_proposals().get(query.normalized, [])
    candidate.finder = finder_findings().get(query.normalized)
    [item] = _score([candidate])
    explain(item)
    return item
