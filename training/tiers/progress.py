"""Progress over named steps, weighted by how long each step took last time.

A run's progress bar is only worth watching when equal distances mean equal waits: each step
gets the share of the bar that its measured duration had in the previous run of the same kind
(or a default measured once on the tutorial dataset), and the bar never moves backwards.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol


class ProgressSink(Protocol):
    """Where progress goes: a log line per step, and a fraction with a status message."""

    def log(self, message: str) -> None: ...

    def progress(self, fraction: float, message: str) -> None: ...


class PrintSink:
    """Writes log lines and progress to standard output (the ``python -m training`` CLI)."""

    def log(self, message: str) -> None:
        print(message)

    def progress(self, fraction: float, message: str) -> None:
        pass


class Steps:
    """A sequence of named steps inside ``span`` of a parent's bar.

    ``weights`` holds each known step's expected duration in seconds; a step that is missing
    from it counts as ``default_weight``. ``timings`` records what each step really took, for
    the next run's weights.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        sink: ProgressSink | None = None,
        span: tuple[float, float] = (0.0, 1.0),
        default_weight: float = 1.0,
    ) -> None:
        self.weights = {name: max(float(value), 1e-3) for name, value in weights.items()}
        self.sink = sink
        self.span = span
        self.default_weight = default_weight
        self.total = sum(self.weights.values()) or 1.0
        self.done = 0.0
        self.current: str | None = None
        self.message = ""
        self.started = 0.0
        self.timings: dict[str, float] = {}
        self.reached = span[0]

    def _weight(self, name: str) -> float:
        return self.weights.get(name, self.default_weight)

    def _report(self, within: float) -> None:
        low, high = self.span
        share = (self.done + self._weight(self.current or "") * within) / self.total
        fraction = low + (high - low) * min(1.0, max(0.0, share))
        self.reached = max(self.reached, fraction)  # never backwards
        if self.sink is not None:
            self.sink.progress(round(self.reached, 4), self.message)

    def _close(self) -> None:
        if self.current is not None:
            self.timings[self.current] = round(time.perf_counter() - self.started, 3)
            if self.current in self.weights:
                self.done += self._weight(self.current)
            self.current = None

    def start(self, name: str, message: str) -> None:
        """End the current step and begin ``name``; its message becomes one log line."""
        self._close()
        self.current, self.message, self.started = name, message, time.perf_counter()
        self._report(0.0)
        if self.sink is not None:
            self.sink.log(message)

    def advance(self, within: float, message: str | None = None) -> None:
        """Progress inside the current step (0 to 1); ``message`` updates the status only."""
        if message:
            self.message = message
        self._report(within)

    def note(self, message: str) -> None:
        """A result worth a log line (a chosen model, an accuracy), without moving the bar."""
        if self.sink is not None:
            self.sink.log(message)

    def child(self, weights: Mapping[str, float]) -> Steps:
        """Steps that share out the current step's part of the bar."""
        low, high = self.span
        width = high - low
        start = low + width * self.done / self.total
        end = low + width * (self.done + self._weight(self.current or "")) / self.total
        return Steps(weights, _ChildSink(self), (start, end), self.default_weight)

    def finish(self) -> dict[str, float]:
        """Close the last step; returns the measured durations by step name."""
        self._close()
        return dict(self.timings)


class _ChildSink:
    """Passes a child's log lines and progress up through its parent (keeping it monotonic)."""

    def __init__(self, parent: Steps) -> None:
        self.parent = parent

    def log(self, message: str) -> None:
        self.parent.message = message
        if self.parent.sink is not None:
            self.parent.sink.log(message)

    def progress(self, fraction: float, message: str) -> None:
        self.parent.reached = max(self.parent.reached, fraction)
        if message:
            self.parent.message = message
        if self.parent.sink is not None:
            self.parent.sink.progress(self.parent.reached, self.parent.message)
