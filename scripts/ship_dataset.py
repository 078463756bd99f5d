"""Turn a recorded run folder into a shipped, registered dataset under harness/datasets/recordings/<name>/.

    .venv/bin/python scripts/ship_dataset.py runs/<run> bench-telesto

What it does, so that a shipped recording is exactly its run, minus what is not data:
- the monitoring stack's own series (Prometheus and the exporters) are dropped: they are not
  collected by default any more and are never suspects (issue 15); host and load generator
  stay as context;
- labels are re-derived from the run's own ground-truth journal, as kept in ``provenance/``,
  with the current labelling rules (``recovering`` steps included) by the one labelling path,
  ``harness/datasets/labels.py``'s ``relabel_dataset``; ``meta.json`` gets ``name``, and
  ``candidates`` (the graph's nodes that have series) where the run's meta lacks them;
- parquet files are written with zstd; ``provenance/`` keeps the run's scenario, plan, journal
  and manifest as they were recorded, and a live run's alerts, score log and live report
  (``faultlab.harness.live.report.build_report`` rebuilds the live board from that folder);
- a run whose host was loaded by work outside the testbed (``meta.json`` ``host_load``
  warnings, see ``harness/runs/hostload.py``) is refused: record it again on a quiet machine, or
  pass ``--allow-loaded-host`` and say so where the dataset is described.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd

from faultlab.dataset import load_dataset
from faultlab.harness.collect import MONITORING_SERVICES as MONITORING
from faultlab.harness.datasets.labels import relabel_dataset

PROVENANCE = ("scenario.yaml", "plan.yaml", "ground_truth.jsonl", "manifest.json")
#: a run with live detectors (``evaluate.live``) also keeps what its live board is built from
#: (``harness/live/report.py`` reads them from ``provenance/`` as from the run folder); models stay out
LIVE = ("alerts.jsonl", "live/scores.jsonl", "live/status.json", "live/usage.json", "live/config.json",
        "live/report.json", "live/report.md")
ROOT = Path(__file__).resolve().parents[1]


def ship(run: Path, name: str, out_root: Path = ROOT / "harness" / "datasets" / "recordings", allow_loaded_host: bool = False) -> Path:
    data = load_dataset(run)
    warnings = (data.meta.get("host_load") or {}).get("warnings") or []
    if warnings and not allow_loaded_host:
        raise SystemExit(f"{run}: not shipped, {'; '.join(warnings)} (--allow-loaded-host to ship it anyway)")
    cols = data.columns
    keep = [c for c, s in zip(cols["name"], cols["service"]) if s not in MONITORING]
    meta = {**data.meta, "name": name, "recorded_as": data.meta.get("name"),
            "columns": [c for c in data.meta.get("columns", []) if c.get("name") in set(keep)],
            "shipped": "monitoring stack series dropped; labels re-derived from provenance/ground_truth.jsonl"}
    shipped = replace(data, metrics=data.metrics[keep], mask=None if data.mask is None else data.mask[keep], meta=meta)
    dest = out_root / name
    if dest.exists():
        shutil.rmtree(dest)
    shipped.save(dest)
    (dest / "provenance").mkdir()
    for file in PROVENANCE:
        shutil.copy2(run / file, dest / "provenance" / file)
    for file in LIVE:
        if (run / file).exists():
            (dest / "provenance" / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(run / file, dest / "provenance" / file)
    relabel_dataset(dest, strict=False)  # from provenance/ground_truth.jsonl, under today's labelling rules
    for file in ("metrics.parquet", "mask.parquet", "labels.parquet"):  # recompress: zstd
        path = dest / file
        if path.exists():
            pd.read_parquet(path).to_parquet(path, index=False, compression="zstd", compression_level=9)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the run folder (runs/<time>-<scenario>/)")
    parser.add_argument("name", help="the registered name, e.g. bench-telesto")
    parser.add_argument("--allow-loaded-host", action="store_true",
                        help="ship a run recorded while outside work loaded the host")
    args = parser.parse_args()
    dest = ship(args.run, args.name, allow_loaded_host=args.allow_loaded_host)
    size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
    data = load_dataset(dest)
    test = data.test()
    print(json.dumps({"dest": str(dest), "size_mb": round(size / 2**20, 2), "steps": len(data.metrics),
                      "series": data.metrics.shape[1], "train_steps": len(data.train().metrics),
                      "faults": int(test.labels.loc[test.labels["fault_id"] != "", "fault_id"].nunique()),
                      "anomalous_share_of_test": round(float(test.y.mean()), 4)}, indent=2))


if __name__ == "__main__":
    main()
