"""What an import did to the file: every drop, re-order, gap, fill and mask, counted, and the split.

Importers fill an :class:`ImportSummary` as they read; :func:`~faultlab.harness.io.parsing.build_dataset`
completes it (values filled, the train/test split) and stores it in ``meta["import"]["summary"]``,
so the provenance travels with the dataset and ``faultlab import`` prints it (:func:`summary_lines`).
Nothing an importer changes is silent: a user can check every number against the source file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Where the training part came from (``train_source``).
FROM_FILE, FROM_OPTION, BEFORE_FIRST_ANOMALY, NO_SPLIT = "file", "option", "before the first anomaly", "none"


@dataclass
class ImportSummary:
    """Counts of everything an import changed; ``warnings`` are printed as ``warning:`` lines."""

    rows_read: int = 0
    duplicates_dropped: int = 0  # rows whose timestamp a later row repeated (order=sort keeps the last)
    rows_reordered: int = 0  # rows earlier than a row before them (order=sort moved them)
    rows_merged: int = 0  # rows that rounded onto a grid step another row already had (fill_gaps=true)
    gap_steps: int = 0  # steps missing from the regular grid of the median interval
    gaps_filled: bool = False  # whether those steps were added (fill_gaps=true) or left out
    values_filled: int = 0  # cells filled forward/backward (mask.parquet marks them): empty, non-finite, gap steps
    non_finite: int = 0  # inf, -inf and numbers beyond float range (1e400): masked and filled
    first_non_finite: str = ""  # where the first one was: "file: line L, column 'c'"
    columns_dropped: int = 0  # series without a single value
    edges_dropped: int = 0  # graph edges to or from a service without metrics
    train_rows: int = 0
    test_rows: int = 0
    train_end: str | None = None
    train_source: str = NO_SPLIT
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as printed by ``faultlab import`` (warnings last, each on its own line)."""
    s = {**ImportSummary().to_json(), **summary}
    kept = "filled onto the regular grid" if s["gaps_filled"] else "kept as irregular steps"
    gaps = f"{s['gap_steps']} gap step(s) {kept}"
    lines = [
        f"read: {s['rows_read']} rows; {s['duplicates_dropped']} duplicated timestamp(s) dropped, "
        f"{s['rows_reordered']} row(s) re-ordered, {s['rows_merged']} row(s) merged onto one grid step; {gaps}",
        f"filled: {s['values_filled']} value(s) (mask.parquet marks them); {s['non_finite']} non-finite value(s) masked"
        + (f", the first at {s['first_non_finite']}" if s["first_non_finite"] else ""),
    ]
    if s["columns_dropped"] or s["edges_dropped"]:
        lines.append(f"dropped: {s['columns_dropped']} series without any value, {s['edges_dropped']} graph edge(s) "
                     "to or from a service without metrics")
    lines.append(f"split: {s['train_rows']} train row(s), {s['test_rows']} test row(s), train_end {s['train_end'] or '-'} "
                 f"(from: {s['train_source']})")
    lines += [f"warning: {w}" for w in s["warnings"]]
    return lines
