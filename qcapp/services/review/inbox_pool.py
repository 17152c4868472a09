"""Which questions the inbox ranks: a pool of candidates cut on an upper bound of their priority
(the signals and weights are described in ``inbox``)."""

from __future__ import annotations

import heapq
import math

from .discards import discarded_questions
from .inbox_filters import InboxFilter, matching_margins
from .inbox_items import WEIGHTS
from .inbox_reads import (
    Candidate,
    decided_questions,
    distinct_questions,
    finder_findings,
    pending_proposals,
    proposal_margins,
    question_stats,
    uncertain_questions,
)

# Smallest-margin predictions read per pooled candidate (several may share a question).
CANDIDATE_FACTOR = 3
TRAFFIC_SCALE = 10.0


def prediction_doubt(
    margin: float | None, confidence: float | None, coarse_confidence: float | None
) -> float:
    """The doubt of a stored prediction (see the module's docstring); 0.5 without one."""
    if margin is None:
        return 0.5
    if confidence is None:
        return 1.0 - float(margin)
    return ((1.0 - float(margin)) + 3 * (1.0 - float(confidence))) / 4


def traffic_signal(asked: int) -> float:
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


def collect(pool_size: int, filters: InboxFilter) -> tuple[list[Candidate], int]:
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
        uncertainty = prediction_doubt(
            candidate.margin, candidate.confidence, candidate.coarse_confidence
        )
        candidate.base = (
            WEIGHTS["uncertainty"] * uncertainty
            + WEIGHTS["disagreement"] * (1.0 if candidate.proposals else 0.0)
            + WEIGHTS["finder"] * (candidate.finder["score"] if candidate.finder else 0.0)
            + WEIGHTS["traffic"] * traffic_signal(candidate.asked)
        )
        open_candidates.append(candidate)
    pool = heapq.nlargest(
        pool_size, open_candidates, key=lambda c: (c.in_scope, c.base, c.asked, c.latest_id)
    )
    return pool, total
