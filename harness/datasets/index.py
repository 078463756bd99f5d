"""Named datasets (``faultlab list datasets``) and one resolver for "a name or a path".

``bench`` and ``check`` accept ``--dataset NAME_OR_PATH``: a registered name, a dataset
folder, or a run folder (whose ``dataset/`` is used). A registered dataset is a function
that builds or loads it, so new ones (a recorded reference run, a public trace) are one
function plus one registration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from faultlab.dataset import Dataset, load_dataset
from faultlab.errors import BadInput
from faultlab.harness.datasets.synthetic import SyntheticSpec, generate
from faultlab.registry import Registry

DATASETS: Registry[Callable[[], Dataset]] = Registry("dataset")


@DATASETS.register("synthetic")
def synthetic() -> Dataset:
    """Synthetic shop, ~2.9k steps at 5 s, 3 faults of each of the 6 types (seed 0)."""
    return generate(SyntheticSpec(name="synthetic"))


@DATASETS.register("synthetic-large")
def synthetic_large() -> Dataset:
    """Synthetic shop, ~13k steps at 5 s, 10 faults of each of the 6 types (seed 0)."""
    return generate(
        SyntheticSpec(name="synthetic-large", train_steps=4000, faults_per_type=10, gap_steps=(40, 120), fault_steps=(30, 90))
    )


RECORDED_DIR = Path(__file__).resolve().parent / "recordings"


@DATASETS.register("quickstart-recorded")
def quickstart_recorded() -> Dataset:
    """Real testbed run of the quickstart scenario (2026-11-25, 5 s scrape; its file is in provenance/): \
115 steps, 289 series, 11 faults."""
    data = load_dataset(RECORDED_DIR / "quickstart-recorded")
    # provenance/ keeps the run's scenario, plan, ground truth and manifest as recorded.
    return replace(data, meta={**data.meta, "name": "quickstart-recorded"})


def _recorded(name: str) -> Dataset:
    """A shipped recording under ``harness/datasets/recordings/<name>/`` (its run's files are in provenance/)."""
    data = load_dataset(RECORDED_DIR / name)
    return replace(data, meta={**data.meta, "name": name})


@DATASETS.register("bench-telesto")
def bench_telesto() -> Dataset:
    """Real testbed, TELESTO protocol (scenarios/bench-telesto.yaml): 5 types x 2 groups x 5 repetitions, 1 s scrape, sine load."""
    return _recorded("bench-telesto")


@DATASETS.register("bench-mixed")
def bench_mixed() -> Dataset:
    """Real testbed (scenarios/bench-mixed.yaml): packet loss, pause, kill, traffic attacks, 8 each, 30 min fault-free, stepped load."""
    return _recorded("bench-mixed")


@DATASETS.register("telesto-catalog")
def telesto_catalog() -> Dataset:
    """Real testbed, TELESTO protocol (scenarios/telesto-catalog.yaml): 5 types x 5 repetitions into catalog, 120 s faults."""
    return _recorded("telesto-catalog")


@DATASETS.register("ladder")
def ladder() -> Dataset:
    """Real testbed (scenarios/ladder.yaml): 6 resource fault types x 4 intensities x 2 targets, 30 min fault-free, sine load."""
    return _recorded("ladder")


@DATASETS.register("live")
def live() -> Dataset:
    """Real testbed with live detectors (scenarios/live.yaml): 6 CPU/memory/disk faults, 2 s scrape; live board in provenance/."""
    return _recorded("live")


def resolve_dataset(name_or_path: str | Path) -> Dataset:
    """A registered dataset by name, else a dataset folder or run folder on disk."""
    text = str(name_or_path)
    if text in DATASETS:
        return DATASETS.get(text)()
    from faultlab.harness.io import is_spec, resolve_spec  # FORMAT:PATH, imported on the fly

    if is_spec(text):
        return resolve_spec(text)
    path = Path(text)
    if path.is_dir() and ((path / "meta.json").exists() or (path / "dataset" / "meta.json").exists()):
        return load_dataset(path)
    if path.exists():
        raise BadInput(
            f"dataset {text!r}: {path} is neither a dataset folder nor a run folder "
            "(no meta.json or dataset/meta.json)"
        )
    raise BadInput(f"dataset {text!r} is neither a registered dataset ({', '.join(DATASETS.names())}) nor an existing folder")
