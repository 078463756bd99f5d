"""Do the detectors' ranks differ across datasets beyond chance? A critical-difference diagram.

A board for a paper compares methods over several datasets the way Demšar (2006) recommends: a
Friedman test over methods x datasets on the board's one ranking key (VUS-PR, seed means), then
Nemenyi's post hoc test, drawn as a critical-difference diagram (scikit-posthocs): mean ranks on
an axis, methods the test cannot tell apart joined by a bar. It needs :data:`MIN_DATASETS`
datasets that rank something (one where every detector ties is skipped); a method without a
value on one of them is left out (ranks need every cell), and the index says which. The floors
stay in: a method tied with ``random`` is worth knowing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from faultlab.harness.evaluation import ALL
from faultlab.harness.reports.leaderboard import RANKING, _img

#: Fewer datasets give the Friedman test too few blocks to mean anything.
MIN_DATASETS = 3
#: The Friedman test needs three methods or more.
MIN_METHODS = 3
ALPHA = 0.05
IMAGE = "plots/critical-difference.png"


@dataclass(frozen=True)
class RankInput:
    """The datasets x methods matrix the tests run on, and what had to be left out to make it full."""

    scores: pd.DataFrame  # datasets (rows) x methods (columns): seed-mean VUS-PR, no NaN
    left_out: dict[str, list[str]] = field(default_factory=dict)  # method -> datasets where it has no value
    skipped: dict[str, str] = field(default_factory=dict)  # dataset -> why it cannot rank the methods


@dataclass(frozen=True)
class Comparison:
    """The Friedman / Nemenyi result, or ``reason`` (why there is no diagram) when it could not run."""

    data: RankInput
    reason: str = ""
    friedman_p: float = float("nan")
    ranks: pd.Series | None = None  # mean rank per method, 1 = best
    nemenyi: pd.DataFrame | None = None  # pairwise p-values


def rank_input(table: pd.DataFrame) -> RankInput:
    """Seed-mean ranking key per dataset and detector (floors marked). A dataset without values, or
    on which every detector ties (e.g. no fault-free test step), ranks nothing and is skipped; then
    a method missing on a remaining dataset is left out."""
    metric, protocol = RANKING["detector"]
    rows = table[(table["kind"] == "detector") & (table["breakdown"] == ALL) & (table["metric"] == metric)
                 & (table["protocol"] == protocol)]
    datasets = [str(d) for d in pd.unique(table["dataset"])]
    means = rows.groupby(["dataset", "model"])["value"].mean().unstack("model") if len(rows) else pd.DataFrame()
    means = means.reindex(index=datasets)
    from faultlab.harness.evaluation.reference import is_floor

    means.columns = [f"{m} (floor)" if is_floor(str(m)) else str(m) for m in means.columns]
    skipped = {d: why for d in datasets if (why := _ranks_nothing(means.loc[d]))}
    means = means.drop(index=list(skipped))
    left_out = {str(m): [str(d) for d in means.index[means[m].isna()]] for m in means.columns if means[m].isna().any()}
    return RankInput(means.drop(columns=list(left_out)).astype(float), left_out, skipped)


def _ranks_nothing(row: pd.Series) -> str:
    """Why one dataset's values cannot order the methods ("" when they can)."""
    present = row.dropna()
    if present.empty:
        return "no detector has a VUS-PR there"
    if len(present) == 1:
        return "only one detector has a VUS-PR there"
    return "every detector ties there" if present.nunique() == 1 else ""


def no_diagram_reason(data: RankInput) -> str:
    """Why the tests cannot run on ``data`` ("" when they can)."""
    n_datasets, n_methods = data.scores.shape
    if n_datasets < MIN_DATASETS:
        return (f"No critical-difference diagram: it needs at least {MIN_DATASETS} datasets with VUS-PR values "
                f"and the board has {n_datasets}.")
    if n_methods < MIN_METHODS:
        return (f"No critical-difference diagram: it needs at least {MIN_METHODS} methods with a VUS-PR on every "
                f"dataset and {n_methods} have one.")
    return ""


def compare(table: pd.DataFrame) -> Comparison:
    """Friedman over methods x datasets, then Nemenyi's pairwise p-values (scikit-posthocs)."""
    data = rank_input(table)
    reason = no_diagram_reason(data)
    if reason:
        return Comparison(data, reason)
    import scikit_posthocs as sp
    from scipy.stats import friedmanchisquare

    scores = data.scores
    p = float(friedmanchisquare(*(scores[m].to_numpy() for m in scores.columns)).pvalue)
    ranks = scores.rank(axis=1, ascending=False).mean().sort_values()  # rank 1: the highest VUS-PR
    return Comparison(data, "", p, ranks, sp.posthoc_nemenyi_friedman(scores))


def diagram_png(comparison: Comparison) -> bytes:
    """The diagram of a comparison that ran (no ``reason``)."""
    from faultlab.harness.reports.plots import critical_difference_png

    assert comparison.ranks is not None and comparison.nemenyi is not None
    title = (f"Mean rank by VUS-PR over {comparison.data.scores.shape[0]} datasets (1 = best); "
             f"bars join methods with no significant difference (Nemenyi, alpha {ALPHA:g})")
    return critical_difference_png(comparison.ranks, comparison.nemenyi, title, ALPHA)


def _notes(comparison: Comparison) -> list[str]:
    """The sentences under the diagram: the test's p-value, the datasets used, what was left out."""
    data = comparison.data
    lines = []
    if not comparison.reason:
        verdict = "the methods' ranks differ" if comparison.friedman_p < ALPHA else "no significant difference between the ranks"
        lines.append(f"Friedman test over {data.scores.shape[1]} methods x {data.scores.shape[0]} datasets: "
                     f"p = {comparison.friedman_p:.3g} ({verdict} at alpha {ALPHA:g}).")
    if len(data.scores.index):
        lines.append(f"Datasets used: {', '.join(data.scores.index)}.")
    if data.skipped:
        lines.append("Datasets left out: " + "; ".join(f"{d} ({why})" for d, why in data.skipped.items()) + ".")
    if data.left_out:
        lines.append("Methods left out (no VUS-PR on every dataset): "
                     + "; ".join(f"{m} (missing on {', '.join(ds)})" for m, ds in sorted(data.left_out.items())) + ".")
    return lines


def section_markdown(comparison: Comparison, image: str = IMAGE) -> str:
    """The index's Markdown section; ``image``: where :func:`diagram_png` was written, relative to the index."""
    parts = ["\n## Critical difference over datasets\n\n"]
    if comparison.reason:
        parts.append(comparison.reason + "\n")
    else:
        parts.append(f"![Critical-difference diagram]({image})\n")
    parts += [f"\n{line}\n" for line in _notes(comparison)]
    return "".join(parts)


def section_html(comparison: Comparison, png: bytes | None) -> str:
    """The index's HTML section, the diagram inlined (the page fetches nothing)."""
    parts = ["<h2>Critical difference over datasets</h2>"]
    if comparison.reason or png is None:
        parts.append(f"<p>{html.escape(comparison.reason)}</p>")
    else:
        parts.append(_img(png, "Critical-difference diagram"))
    parts += [f"<p>{html.escape(line)}</p>" for line in _notes(comparison)]
    return "\n".join(parts)


__all__ = ["ALPHA", "IMAGE", "MIN_DATASETS", "Comparison", "RankInput", "compare", "diagram_png", "no_diagram_reason",
           "rank_input", "section_html", "section_markdown"]
