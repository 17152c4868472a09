"""How far each client's proposals can be trusted: the share of its reviewed ones approved.

A Beta(1, 1) prior is added to the counts, so a client nobody has reviewed yet starts at 0.5
(neutral) and one verdict moves it only part of the way: 1 approval gives 2/3, 1 rejection 1/3.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import case, func, select

from ...extensions import db
from ...models import Correction, CorrectionStatus

PRIOR_APPROVED = 1.0
PRIOR_REJECTED = 1.0
NEUTRAL = PRIOR_APPROVED / (PRIOR_APPROVED + PRIOR_REJECTED)


def trust_from_counts(approved: int, rejected: int) -> float:
    """The posterior mean share of approvals given these verdicts and the prior."""
    return (approved + PRIOR_APPROVED) / (approved + rejected + PRIOR_APPROVED + PRIOR_REJECTED)


def client_trust(client_hashes: Iterable[str | None]) -> dict[str, float]:
    """The trust score of each named client (clients without a name are left out)."""
    names = sorted({name for name in client_hashes if name})
    if not names:
        return {}
    approved = func.sum(case((Correction.status == CorrectionStatus.APPROVED, 1), else_=0))
    rejected = func.sum(case((Correction.status == CorrectionStatus.REJECTED, 1), else_=0))
    rows = db.session.execute(
        select(Correction.client_hash, approved, rejected)
        .where(Correction.client_hash.in_(names))
        .group_by(Correction.client_hash)
    ).all()
    counts = {name: (int(a or 0), int(r or 0)) for name, a, r in rows}
    return {name: trust_from_counts(*counts.get(name, (0, 0))) for name in names}
