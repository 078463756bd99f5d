"""The live process of a run: collect the training data, fit, then score every scrape until stopped.

Started by the runner (:mod:`.process`) as ``python -m faultlab.harness.live.session CONFIG`` in
a low-weight CPU cgroup (:mod:`.cpubound`), never inside the runner: fitting a torch model there
would compete with the testbed at full weight, and torch and Locust must not share a process.

1. wait for the end of the fault-free training period (plus two scrapes, so its last samples landed);
2. collect it from Prometheus with the run's own collection settings (the same columns the
   run's dataset will have) and fit each live detector on it, seeded, timing wall and CPU;
3. save each fitted model under ``live/models/`` (for the board's offline comparison and ``faultlab watch``);
4. prime a buffer with the stream since the training period began (as much as the detectors
   need), then score each new grid step, appending alarms to ``alerts.jsonl`` and every score to
   ``live/scores.jsonl``;
5. on SIGTERM/SIGINT (the runner stopping it) or when the runner is gone: close the files, write
   the final ``live/status.json`` and exit 0; on an error: status ``failed`` with the reason, exit 1.

``live/status.json`` says where it is (``waiting``, ``fitting``, ``live``, ``stopped``, ``failed``),
what each fit cost, and the counts (steps, alarms, skipped steps).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Only light imports here: the signal handlers go in before anything heavy is loaded, so even a
# live process starved of CPU while importing stops cleanly and leaves its status.
from faultlab.errors import Interrupted, RunFailed
from faultlab.harness.live.files import LiveFiles
from faultlab.interrupt import interruptible

#: Seconds between status rewrites while scoring.
STATUS_EVERY_S = 30.0


@dataclass
class SessionConfig:
    """Everything the live process needs, written by the runner as ``live/config.json``."""

    folder: str  # the run folder
    prometheus_url: str
    step_s: float
    origin_s: float  # the dataset's first grid step (start of the fault-free training period)
    train_end_s: float  # end of the training period (start of the fault phase)
    detectors: list[dict[str, Any]]  # {"name", "params", "seed", "label"}
    groups: list[str] | None = None
    services: list[str] | None = None
    monitoring: bool = False
    graph: dict[str, Any] = field(default_factory=dict)
    settle_s: float = 10.0  # wait after train_end_s before collecting it
    lag_s: float | None = None
    top_k: int = 3
    parent_pid: int | None = None

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: str | Path) -> SessionConfig:
        return cls(**json.loads(Path(path).read_text()))


class Status:
    """``live/status.json``, rewritten atomically (temp file + rename) at each change."""

    def __init__(self, path: Path, **fields: Any) -> None:
        self.path = path
        self.doc: dict[str, Any] = {"state": "starting", "pid": os.getpid(), **fields}

    def update(self, **fields: Any) -> None:
        from faultlab.injectors.ground_truth import iso_ms

        self.doc.update(fields)
        self.doc["updated_at"] = iso_ms(time.time())
        self.doc["cpu_s"] = round(cpu_seconds(), 3)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.doc, indent=2, default=str) + "\n")
        os.replace(tmp, self.path)


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _die_with_parent(parent_pid: int | None) -> None:
    """Ask Linux to SIGTERM us when the runner dies (a SIGKILLed runner must not leave a poller)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent_pid is not None and os.getppid() != parent_pid:  # it died before prctl took effect
        raise Interrupted("the runner exited")


def _parent_alive(parent_pid: int | None) -> bool:
    return parent_pid is None or os.getppid() == parent_pid


def _wait_until(deadline_s: float, parent_pid: int | None) -> None:
    while (left := deadline_s - time.time()) > 0:
        if not _parent_alive(parent_pid):
            raise Interrupted("the runner exited")
        time.sleep(min(left, 1.0))


def prepare(config: SessionConfig) -> list:
    """Load what the session will need and build its detectors (unfitted), while the training
    period still runs: the host is quieter then than when the faults start, and a process that
    yields to everything must not spend its first minutes of the fault phase importing."""
    from faultlab.detectors import make_detector
    from faultlab.detectors.torchkit import TorchParams
    from faultlab.harness.collect import collect_dataset  # noqa: F401 - loaded now, used after the wait
    from faultlab.harness.live import poller, scorer, stream  # noqa: F401

    detectors = [make_detector(d["name"], d.get("params") or {}, int(d.get("seed", 0))) for d in config.detectors]
    if any(isinstance(d.params, TorchParams) for d in detectors):
        import torch

        torch.set_num_threads(1)
    return detectors


def run_session(config: SessionConfig) -> int:
    """Steps 1-5 of the module docstring; returns the steps scored."""
    files = LiveFiles(Path(config.folder))
    status = Status(files.status, detectors=[d["label"] for d in config.detectors])
    status.update(state="starting")
    detectors = prepare(config)

    import numpy as np

    from faultlab.harness.collect import collect_dataset
    from faultlab.harness.live.journal import AlertJournal, ScoreLog
    from faultlab.harness.live.poller import PrometheusSource
    from faultlab.harness.live.scorer import LiveScorer, buffer_capacity, run_stream
    from faultlab.harness.live.stream import StreamBuffer
    from faultlab.injectors.ground_truth import iso_ms

    status.update(state="waiting", until=iso_ms(config.train_end_s + config.settle_s))
    _wait_until(config.train_end_s + config.settle_s, config.parent_pid)

    status.update(state="collecting")
    data = collect_dataset(
        config.prometheus_url, config.origin_s, config.train_end_s, config.step_s, groups=config.groups,
        services=config.services, graph=config.graph, monitoring=config.monitoring,
        meta={"name": "live-training", "train_end": iso_ms(config.train_end_s)},
    )
    train = data.train()
    status.update(state="fitting", train_steps=len(train.metrics), series=int(train.metrics.shape[1]))
    live = fit_detectors(config.detectors, train, files.models, config.step_s, status, detectors)

    buffer = StreamBuffer(
        [str(c) for c in train.metrics.columns], train.meta["columns"], capacity=buffer_capacity([d.detector for d in live]),
        step_s=config.step_s, graph=train.graph, candidates=train.candidates,
        fill=np.median(train.metrics.to_numpy(dtype=np.float64), axis=0), name="live",
    )
    source = PrometheusSource(
        config.prometheus_url, config.step_s, origin_s=config.origin_s, groups=config.groups, services=config.services,
        monitoring=config.monitoring, lag_s=config.lag_s,
    )
    scorer = LiveScorer(live, buffer, alerts=AlertJournal(files.alerts), scores=ScoreLog(files.scores), top_k=config.top_k)
    last_status = [0.0]

    def tick() -> bool:
        if scorer.steps == 0 and last_status[0] == 0.0:
            status.update(state="live", live_from=iso_ms(source.next_time_s), primed_steps=len(buffer))
        if time.monotonic() - last_status[0] > STATUS_EVERY_S:
            last_status[0] = time.monotonic()
            status.update(steps=scorer.steps, alarms=scorer.alarms, skipped=source.skipped)
        if not _parent_alive(config.parent_pid):
            raise Interrupted("the runner exited")
        return True

    try:
        run_stream(source, scorer, keep_going=tick, log=lambda line: print(line, file=sys.stderr, flush=True))
    finally:
        scorer.close()
        source.close()
        status.update(steps=scorer.steps, alarms=scorer.alarms, skipped=source.skipped)
    return scorer.steps


def fit_detectors(specs: Sequence[dict[str, Any]], train, models_dir: Path, step_s: float, status: Status,
                  detectors: Sequence[Any] | None = None) -> list:
    """Fit every live detector on ``train`` (seeded), save it, record each fit's wall and CPU time
    (``detectors``: the ones :func:`prepare` built, else they are built from ``specs``).

    A detector that cannot be fitted (too few steps for its window, a model error) is recorded
    with its error and left out; the others go live. None fitted: RunFailed.
    """
    from faultlab.detectors import make_detector
    from faultlab.harness.live.models import model_dir_name, save_model
    from faultlab.harness.live.scorer import LiveDetector

    live, fits = [], {}
    built = list(detectors) if detectors is not None else [
        make_detector(spec["name"], spec.get("params") or {}, int(spec.get("seed", 0))) for spec in specs]
    for spec, detector in zip(specs, built):
        _one_thread()
        wall, cpu = time.perf_counter(), cpu_seconds()
        try:
            detector.fit(train)
        except Exception as exc:  # noqa: BLE001 - one method's failure must not stop the others' live detection
            traceback.print_exc()
            fits[spec["label"]] = {"error": f"{type(exc).__name__}: {exc}"}
            status.update(fits=fits)
            continue
        fits[spec["label"]] = {
            "fit_s": round(time.perf_counter() - wall, 3), "fit_cpu_s": round(cpu_seconds() - cpu, 3),
            "threshold": float(detector.threshold_), "history_steps": detector.history_steps,
            "model": str(save_model(detector, models_dir / model_dir_name(spec["label"]), step_s=step_s,
                                    label=spec["label"], dataset="live-training")),
        }
        status.update(fits=fits)
        live.append(LiveDetector(spec["label"], detector, int(spec.get("seed", 0))))
    if not live:
        raise RunFailed("no live detector could be fitted: " + "; ".join(f"{k}: {v['error']}" for k, v in fits.items()))
    return live


def _one_thread() -> None:
    """torch reads OMP_NUM_THREADS late; set its pool to one thread once it is loaded."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m faultlab.harness.live.session CONFIG.json", file=sys.stderr)
        return 2
    config = SessionConfig.read(args[0])
    status_path = LiveFiles(Path(config.folder)).status
    with interruptible():
        try:
            _die_with_parent(config.parent_pid)
            run_session(config)
            _final(status_path, "stopped", "the stream ended")
            return 0
        except (Interrupted, KeyboardInterrupt) as exc:
            _final(status_path, "stopped", exc.reason if isinstance(exc, Interrupted) else "SIGINT")
            return 0
        except Exception as exc:  # noqa: BLE001 - the runner reads the reason from the status file
            traceback.print_exc()
            _final(status_path, "failed", f"{type(exc).__name__}: {exc}")
            return 1


def _final(path: Path, state: str, reason: str) -> None:
    from faultlab.injectors.ground_truth import iso_ms

    path.parent.mkdir(parents=True, exist_ok=True)
    doc = json.loads(path.read_text()) if path.exists() else {}
    Status(path, **doc).update(state=state, reason=reason, stopped_at=iso_ms(time.time()))


if __name__ == "__main__":
    sys.exit(main())
