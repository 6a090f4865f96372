"""Traefik's weighted round robin: Earliest Deadline First, deterministic (spec §4.4).

A port of ``wrr.Balancer`` (traefik ``pkg/server/service/loadbalancer/wrr/wrr.go``): each child has a
deadline; a pick takes the child with the smallest deadline, sets the current deadline to it and advances
the child by ``1/weight``; a child added later starts at ``current deadline + 1/weight``; non-positive
weights are dropped. The heap is Go's ``container/heap`` (same sift order), so ties break as in Traefik.
Pure: no I/O, no clock. Build a new balancer on every configuration change, as Traefik does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class NoChildren(LookupError):
    """The balancer has no child with a positive weight ("no servers in the pool")."""


@dataclass
class _Child:
    name: str
    weight: float
    deadline: float


class WeightedRoundRobin:
    """EDF weighted round robin over named children."""

    def __init__(self, children: Iterable[tuple[str, float]] = ()) -> None:
        self._heap: list[_Child] = []
        self._current = 0.0
        for name, weight in children:
            self.add(name, weight)

    def add(self, name: str, weight: float) -> None:
        """Add a child; a non-positive weight is ignored, as Traefik's ``AddService`` does."""
        if weight <= 0:
            return
        self._push(_Child(name, float(weight), self._current + 1 / float(weight)))

    def next(self) -> str:
        """The name of the child that serves the next request."""
        if not self._heap:
            raise NoChildren("no servers in the pool")
        child = self._pop()
        self._current = child.deadline
        child.deadline += 1 / child.weight
        self._push(child)
        return child.name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(child.name for child in self._heap))

    def __len__(self) -> int:
        return len(self._heap)

    # Go container/heap, with Less(i, j) = deadline[i] < deadline[j].

    def _less(self, i: int, j: int) -> bool:
        return self._heap[i].deadline < self._heap[j].deadline

    def _swap(self, i: int, j: int) -> None:
        self._heap[i], self._heap[j] = self._heap[j], self._heap[i]

    def _push(self, child: _Child) -> None:
        self._heap.append(child)
        self._up(len(self._heap) - 1)

    def _pop(self) -> _Child:
        last = len(self._heap) - 1
        self._swap(0, last)
        self._down(0, last)
        return self._heap.pop()

    def _up(self, j: int) -> None:
        while j > 0:
            parent = (j - 1) // 2
            if not self._less(j, parent):
                break
            self._swap(parent, j)
            j = parent

    def _down(self, i: int, n: int) -> None:
        while True:
            left = 2 * i + 1
            if left >= n:
                break
            j = left
            right = left + 1
            if right < n and self._less(right, left):
                j = right
            if not self._less(j, i):
                break
            self._swap(i, j)
            i = j
