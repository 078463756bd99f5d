"""Runs of 1s in a 0/1 series: the one place faults, alarms and labelled events are cut into spans."""

from __future__ import annotations

import numpy as np


def runs_of(flags: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs of nonzero values as ``(start, end)`` step indices, ``end`` exclusive."""
    flat = np.asarray(flags).astype(bool).astype(np.int8).ravel()
    edges = np.diff(np.concatenate([[0], flat, [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))
