"""Root-cause localisation metrics: AC@k and Avg@k over a set of faults.

Definitions as in MicroRCA (Wu et al., NOMS 2020) and RCAEval (Pham et al., WWW 2025 companion):
for fault ``a`` with true root-cause set ``V_a`` and ranked candidates ``R_a``,
``AC@k = mean_a |R_a[:k] ∩ V_a| / min(k, |V_a|)`` (with one root cause: the share of faults
whose root cause is in the top k), and ``Avg@k = mean(AC@1 .. AC@k)``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from faultlab.errors import BadInput
from faultlab.harness.scoring.base import register


def _hits(ranked: Sequence[Sequence[str]], truth: Sequence[Collection[str]], k: int) -> np.ndarray:
    if k < 1:
        raise BadInput(f"k must be >= 1, got {k}")
    if len(ranked) != len(truth):
        raise BadInput(f"ranked and truth differ in length: {len(ranked)} != {len(truth)}")
    out = np.empty(len(ranked))
    for i, (candidates, causes) in enumerate(zip(ranked, truth)):
        causes = {causes} if isinstance(causes, str) else set(causes)
        if not causes:
            raise BadInput(f"fault {i}: the true root-cause set is empty")
        top = list(dict.fromkeys(candidates))[:k]  # a repeated candidate counts once
        out[i] = len(causes.intersection(top)) / min(k, len(causes))
    return out


def ac_at_k(ranked: Sequence[Sequence[str]], truth: Sequence[Collection[str]], k: int = 1) -> float:
    """Mean share of each fault's root causes found in its top ``k`` candidates; ``nan`` for no faults."""
    hits = _hits(ranked, truth, k)
    return float(hits.mean()) if len(hits) else float("nan")


def avg_at_k(ranked: Sequence[Sequence[str]], truth: Sequence[Collection[str]], k: int = 5) -> float:
    """``mean(AC@1 .. AC@k)``: rewards putting the root cause high, not just inside the top k."""
    if k < 1:
        raise BadInput(f"k must be >= 1, got {k}")
    return float(np.mean([ac_at_k(ranked, truth, j) for j in range(1, k + 1)]))


def random_ranking_ac_at_k(truth: Sequence[Collection[str]], candidates: Collection[str], k: int = 1) -> float:
    """Expected :func:`ac_at_k` of a uniformly random ranking of ``candidates``: the floor of AC@k.

    A random order puts ``min(k, |C|) |V ∩ C| / |C|`` of a fault's root causes ``V`` in its top
    ``k`` on average (``k / |C|`` for one root cause); ``nan`` for no faults or no candidates.
    """
    if k < 1:
        raise BadInput(f"k must be >= 1, got {k}")
    pool = set(candidates)
    if not truth or not pool:
        return float("nan")
    per_fault = []
    for causes in truth:
        causes = {causes} if isinstance(causes, str) else set(causes)
        if not causes:
            raise BadInput("a fault's true root-cause set is empty")
        per_fault.append(min(k, len(pool)) * len(causes & pool) / len(pool) / min(k, len(causes)))
    return float(np.mean(per_fault))


def random_ranking_expectation(metric_fn: object, params: dict[str, int], truth: Sequence[Collection[str]],
                               candidates: Collection[str]) -> float:
    """The expected value of a registered root-cause metric (AC@k or Avg@k) under a random ranking."""
    k = int(params.get("k", 1))
    if metric_fn is ac_at_k:
        return random_ranking_ac_at_k(truth, candidates, k)
    if metric_fn is avg_at_k:
        return float(np.mean([random_ranking_ac_at_k(truth, candidates, j) for j in range(1, k + 1)]))
    return float("nan")


for _k in (1, 3, 5):
    register(f"ac@{_k}", ac_at_k, "rootcause", params={"k": _k}, reference="MicroRCA / RCAEval")
register("avg@5", avg_at_k, "rootcause", params={"k": 5}, reference="MicroRCA / RCAEval")
