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
``inbox_pool`` chooses the candidates that are scored here.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import distinct, func, select

from training import similar_groups

from ...extensions import db
from ...models import Prediction, Query
from .inbox_filters import InboxFilter, item_matches
from .inbox_items import (
    WEIGHTS,
    InboxItem,
    Member,
    explain,
    merge_proposals,
    proposals_from_rows,
)
from .inbox_pool import collect, prediction_doubt, traffic_signal
from .inbox_reads import (
    Candidate,
    finder_findings,
    latest_predictions,
    pending_proposals,
    split_questions,
)
from .neighbours import training_neighbours
from .stability import answer_instability
from .trust import NEUTRAL, client_trust

# Candidates considered for grouping and the neighbours' opinion, per item shown.
POOL_FACTOR = 2
MIN_POOL = 120
REASON_POOL_FACTOR = 4


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
        doubt = prediction_doubt(margin, candidate.confidence, candidate.coarse_confidence)
        uncertainty = doubt * (0.5 + 0.5 * opinion) * (0.5 + 0.5 * share)
        signals = {
            "uncertainty": uncertainty,
            "neighbours": opinion,
            "stability": share,
            "disagreement": _disagreement(candidate.proposals, model_label, trust),
            "finder": candidate.finder["score"] if candidate.finder else 0.0,
            "traffic": traffic_signal(candidate.asked),
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
    pool, total = collect(pool_size, filters)
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
