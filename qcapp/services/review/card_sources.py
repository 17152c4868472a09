"""What the card preselects and why: each source's support for each label, weighed and said in
words.

Three sources speak for a label: the model (its probability for the label), the training
data (the active dataset's label of the same question) and the visitors (their proposals, each
client counted by its trust, see ``trust``). A label's support is the sum of

* the model's probability for it, from 0 to 1;
* ``TRAINING_WEIGHT`` when the training data labels the question so: a curated label, worth
  about as much as a sure model, and approving anything else is an override;
* ``1 - prod(1 - trust)`` over the clients proposing it: one neutral visitor (trust 0.5) adds
  0.5, three add 0.88, one whose proposals were mostly rejected (0.33) adds 0.33.

So a low-trust visitor's lone proposal never outweighs a sure model backed by the training
data ("How fast can a cheetah run?": NUM:speed 1.0 + 0.9 against ENTY:animal 0.33), while
three neutral visitors agreeing outweigh a hesitant model (0.88 against 0.6).
"""

from __future__ import annotations

from dataclasses import dataclass

from .inbox_items import InboxItem

TRAINING_WEIGHT = 0.9


@dataclass
class Source:
    """One source's say on the card: who, which label, and its weight in words."""

    who: str
    label: str
    weight: float
    words: str


def _model_words(confidence: float) -> str:
    if confidence >= 0.9:
        return f"very sure ({confidence:.0%})"
    if confidence >= 0.6:
        return f"fairly sure ({confidence:.0%})"
    return f"unsure ({confidence:.0%})"


def _trust_words(trust: float) -> str:
    if trust >= 0.67:
        return "trusted: most of their earlier proposals were approved"
    if trust > 0.4:
        return "not known yet: few of their proposals were reviewed"
    return "little trusted: most of their earlier proposals were rejected"


def model_probabilities(item: InboxItem) -> dict[str, float]:
    """The model's probability for its label and its alternatives."""
    found = {}
    if item.model_label and item.confidence is not None:
        found[item.model_label] = float(item.confidence)
    for alternative in item.alternatives:
        found.setdefault(alternative["fine"], float(alternative.get("confidence") or 0.0))
    return found


def card_sources(item: InboxItem, base_label: str | None) -> list[Source]:
    """Every source's say on the item, strongest first."""
    sources = []
    if item.model_label:
        confidence = item.confidence if item.confidence is not None else 0.0
        sources.append(Source("The model", item.model_label, confidence, _model_words(confidence)))
    if base_label:
        sources.append(
            Source(
                "The training data",
                base_label,
                TRAINING_WEIGHT,
                "labels this very question so; another label overrides it",
            )
        )
    for proposal in item.proposals:
        people = f"{proposal.clients} visitor(s)" if proposal.clients else "an anonymous visitor"
        support = 1 - (1 - proposal.trust) ** max(proposal.clients, 1)
        sources.append(
            Source(
                f"{people}, {proposal.count} proposal(s)",
                proposal.fine,
                support,
                _trust_words(proposal.trust),
            )
        )
    return sorted(sources, key=lambda s: -s.weight)


def support_by_label(item: InboxItem, base_label: str | None) -> dict[str, float]:
    """Each label's summed support (see the module's docstring)."""
    support: dict[str, float] = {}
    for label, probability in model_probabilities(item).items():
        support[label] = support.get(label, 0.0) + probability
    if base_label:
        support[base_label] = support.get(base_label, 0.0) + TRAINING_WEIGHT
    for proposal in item.proposals:
        weight = 1 - (1 - proposal.trust) ** max(proposal.clients, 1)
        support[proposal.fine] = support.get(proposal.fine, 0.0) + weight
    return support


def best_supported(item: InboxItem, base_label: str | None, choices: list[str]) -> str | None:
    """The offered label with the most support; ties go to the earlier choice."""
    support = support_by_label(item, base_label)
    if not choices:
        return None
    return max(choices, key=lambda label: (support.get(label, 0.0), -choices.index(label)))
