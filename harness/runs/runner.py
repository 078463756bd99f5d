"""``faultlab run``: one scenario file, end to end, into one self-contained run folder.

    validate -> plan.yaml -> testbed up -> load (warm-up, fault-free training period)
      -> faults on schedule (ground_truth.jsonl as it happens) -> cool-down
         [evaluate.live: from the end of the training period, a CPU-bounded live process fits
          the live detectors and scores every scrape, alarms to alerts.jsonl (harness/live/)]
      -> collect from Prometheus -> dataset/ -> evaluate -> scores.json, leaderboard
      -> manifest.json (written last) -> testbed down (unless kept)

SIGTERM, SIGHUP or Ctrl-C at any point (one :class:`~faultlab.errors.Interrupted`, see
:mod:`faultlab.interrupt`): the executor reverts the active faults, whatever time span was run
is still collected, labelled and evaluated where possible, the manifest says ``complete: false``
with the reason, and the testbed goes down. Nothing is started before the scenario has been
validated.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from faultlab.errors import BadInput, Interrupted, RunFailed
from faultlab.harness.runs import hostload
from faultlab.harness.runs.folder import RunFolder, create_run_folder, utc_now, write_manifest
from faultlab.harness.scenario import RunPlan, Scenario, load_scenario, resolve_plan, write_plan
from faultlab.injectors.ground_truth import iso_ms
from faultlab.interrupt import interruptible

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class RunState:
    """What a run has reached so far (times in Unix seconds), filled in by the live phase as it goes.

    Collection, labelling and the manifest read it after the live phase, also when that phase
    failed or was interrupted: a field is ``None`` until its moment came, so they see exactly how
    far the run got (no load started: nothing to collect).
    """

    image_ids: dict[str, str] = field(default_factory=dict)  # testbed image (runtime, locust) -> id, once it is up
    load_start: float | None = None  # the load (and its shape's clock) started; warm-up begins
    fault_start: float | None = None  # the fault phase starts: the end of the fault-free training part
    end: float | None = None  # the live phase ended (finished, failed or interrupted)
    host_load: dict[str, Any] | None = None  # the host's outside load per phase (:func:`host_load_summary`)
    live: dict[str, Any] | None = None  # the live process's outcome and CPU use (evaluate.live), once stopped


@dataclass
class RunResult:
    folder: RunFolder
    complete: bool
    error: str | None = None


class Progress:
    """Prints phase, elapsed/remaining time and the fault scheduled now, every ``every_s``."""

    def __init__(self, plan: RunPlan, load_start: float, log: Log, every_s: float = 15.0) -> None:
        self.plan, self.load_start, self.log, self.every_s = plan, load_start, log, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def line(self, now: float) -> str:
        t = now - self.load_start
        plan = self.plan
        if t < plan.warmup_s:
            phase = "warm-up"
        elif t < plan.fault_phase_start_s:
            phase = "fault-free training period"
        else:
            ft = t - plan.fault_phase_start_s
            current = [f for f in plan.faults if f.start_s <= ft < f.end_s]
            if current:
                phase = "faults: " + ", ".join(f"{f.fault_id} {f.type} on {','.join(f.targets)}" for f in current)
            elif ft < max((f.end_s for f in plan.faults), default=0.0):
                phase = "faults: grace period"
            else:
                phase = "cool-down"
        remaining = max(0.0, plan.duration_s - t)
        return f"[{_mmss(t)} elapsed, {_mmss(remaining)} left] {phase}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.log(self.line(time.time()))


def _mmss(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60:d}:{seconds % 60:02d}"


def _sleep_until(deadline: float) -> None:
    while (left := deadline - time.time()) > 0:
        time.sleep(min(left, 1.0))


def testbed_config_for(plan: RunPlan):
    """The testbed settings a plan asks for (scrape interval and load)."""
    from faultlab.testbed.lifecycle import TestbedConfig

    return TestbedConfig(
        scrape_interval_s=plan.scrape_interval_s,
        load_shape=plan.load.shape,
        load_params=plan.load.params,
        load_seed=plan.load.seed,
    )


def restart_load(config) -> float:
    """(Re)create the Locust container so the load shape's clock starts now; return that time."""
    from faultlab.testbed.lifecycle import compose

    compose(config, "up", "-d", "--no-build", "--no-deps", "--force-recreate", "locust")
    return time.time()


def run_scenario(
    scenario_path: str | Path, keep_up: bool = False, out: str | Path | None = None, log: Log = _stderr
) -> RunResult:
    """Run a scenario file end to end; returns the run folder (complete or not)."""
    scenario = load_scenario(scenario_path)  # BadInput before anything starts
    plan = resolve_plan(scenario)
    folder = create_run_folder(scenario_path, scenario.name, out or scenario.output.dir)
    write_plan(plan, folder.plan_file)
    log(f"run folder {folder.path}")
    started_at = utc_now()
    state = RunState()
    outcome = _Outcome()
    with interruptible():
        try:
            try:
                _run_live(scenario, plan, folder, state, log)
                outcome.complete = True
            except (KeyboardInterrupt, Interrupted) as exc:
                outcome.fail(f"interrupted by {_reason(exc)}; active faults reverted", log)
                log("collecting and labelling what was run so far")
            except (RunFailed, BadInput) as exc:
                outcome.fail(str(exc), log)
            if outcome.complete and (why := live_failure(state.live)):
                outcome.fail(why, log)
            state.end = state.end or time.time()
            if state.load_start is not None:
                try:
                    _collect_and_evaluate(scenario, plan, folder, state, log)
                except (RunFailed, BadInput) as exc:
                    outcome.fail(f"collection/evaluation failed: {exc}", log)
                except (KeyboardInterrupt, Interrupted) as exc:
                    outcome.fail(f"interrupted by {_reason(exc)} during collection/evaluation", log)
            if state.live is not None and not _live_files(folder).report.exists():
                try:  # collection failed or was cut short: the live figures still stand
                    live_report(scenario, folder, None, log)
                except (RunFailed, BadInput) as exc:
                    outcome.fail(f"live report failed: {exc}", log)
        finally:
            try:
                if not (keep_up or scenario.testbed.reuse):
                    _teardown(plan, log)
            except (KeyboardInterrupt, Interrupted) as exc:
                outcome.fail(f"interrupted by {_reason(exc)} during teardown", log)
            finally:
                write_manifest(
                    folder,
                    started_at=started_at,
                    ended_at=utc_now(),
                    complete=outcome.complete,
                    seeds={**plan.seeds(), "evaluate": _evaluation_seeds(scenario)},
                    image_ids=state.image_ids,
                    extra={
                        "scenario": scenario.name,
                        "error": outcome.error,
                        "load_start": iso_ms(state.load_start or None),
                        "fault_phase_start": iso_ms(state.fault_start or None),
                        "end": iso_ms(state.end or None),
                        "host_load": state.host_load,
                        "live": state.live,
                    },
                )
    return RunResult(folder=folder, complete=outcome.complete, error=outcome.error)


@dataclass
class _Outcome:
    """Whether the run completed, and every reason it did not (joined into one line)."""

    complete: bool = False
    error: str | None = None

    def fail(self, reason: str, log: Log) -> None:
        self.complete = False
        self.error = "; ".join(filter(None, [self.error, reason]))
        log(reason)


def _reason(exc: BaseException) -> str:
    return exc.reason if isinstance(exc, Interrupted) else "SIGINT (Ctrl-C)"


def _evaluation_seeds(scenario: Scenario) -> dict[str, list[int]]:
    ev = scenario.evaluate
    return {m.name: list(m.seeds) for m in [*ev.detectors, *ev.classifiers]}


def _run_live(scenario: Scenario, plan: RunPlan, folder: RunFolder, state: RunState, log: Log) -> None:
    from faultlab.injectors.docker_ops import DockerOps
    from faultlab.injectors.executor import Executor, ExecutorConfig
    from faultlab.injectors.ground_truth import GroundTruthLog
    from faultlab.testbed.lifecycle import image_ids, up

    config = testbed_config_for(plan)
    log("phase: testbed up")
    up(config, log=log)
    state.image_ids = image_ids(config)
    # Preflight runs once, here, right after the testbed is up (not again inside executor.run).
    executor_cfg = ExecutorConfig(baseline_s=min(60.0, plan.train_s), clean_first=True, preflight=False)
    executor = Executor(DockerOps(), GroundTruthLog(folder.ground_truth_file), executor_cfg)
    if plan.faults:
        log(f"phase: preflight of {len(plan.faults)} faults")
        executor.preflight(plan.schedule_plan())
    load_start = restart_load(config)
    fault_start = load_start + plan.fault_phase_start_s
    state.load_start, state.fault_start = load_start, fault_start
    progress = Progress(plan, load_start, log)
    progress.start()
    host_load = hostload.Monitor().start()
    live = None
    try:
        live = start_live(scenario, plan, folder, state, log)
        log(f"phase: warm-up {plan.warmup_s:.0f} s, fault-free training period {plan.train_s:.0f} s")
        if plan.faults:
            # The executor samples the targets' counters for its baseline before the first
            # fault, so it starts that long before the fault phase.
            _sleep_until(fault_start - executor_cfg.baseline_s - 5.0)
            log(f"phase: {len(plan.faults)} faults")
            executor.run(plan.schedule_plan(), t0=fault_start)
        folder.ground_truth_file.touch()
        last_end = fault_start + max((f.end_s for f in plan.faults), default=0.0)
        log(f"phase: cool-down {plan.cooldown_s:.0f} s")
        _sleep_until(last_end + plan.cooldown_s)
    finally:
        progress.stop()
        state.end = time.time()
        if live is not None:  # every exit path: finished, failed, SIGTERM/SIGHUP/Ctrl-C
            live.stop(run_phases(plan, state))
            state.live = {**(live.usage or {}), "status": live.status()}
        state.host_load = host_load_summary(host_load.stop(), plan, state, log, live)


def start_live(scenario: Scenario, plan: RunPlan, folder: RunFolder, state: RunState, log: Log):
    """The live process of ``evaluate.live`` (:mod:`faultlab.harness.live.process`), started now, or None.

    It waits for the end of the training period, collects it with the run's own collection
    settings, fits the detectors and scores every step until the runner stops it.
    """
    if not scenario.evaluate.live:
        return None
    from faultlab.harness.evaluation.table import MethodSpec
    from faultlab.harness.live.process import LiveProcess
    from faultlab.harness.live.session import SessionConfig
    from faultlab.testbed.topology import service_graph

    assert state.load_start is not None and state.fault_start is not None
    detectors = [{"name": s.name, "params": dict(s.params), "seed": int(s.seeds[0]), "label": MethodSpec(s.name, s.params).label}
                 for s in scenario.evaluate.live]
    config = SessionConfig(
        folder=str(folder.path), prometheus_url=testbed_config_for(plan).prometheus_url, step_s=plan.step_s,
        origin_s=state.load_start + plan.warmup_s, train_end_s=state.fault_start, detectors=detectors,
        groups=plan.metric_groups, services=plan.collect_services, monitoring=plan.collect_monitoring,
        graph=service_graph().to_json(), settle_s=2 * plan.scrape_interval_s,
    )
    live = LiveProcess(config, log).start()
    bound = live.bound.detail if live.bound else "?"
    log(f"phase: live detection with {', '.join(d['label'] for d in detectors)}: fitted after the training period, "
        f"then every {plan.step_s:g} s; CPU bound: {bound}")
    return live


def live_failure(live: dict[str, Any] | None) -> str | None:
    """Why live detection gave nothing or broke (None: it went live and the runner stopped it cleanly)."""
    if live is None:
        return None
    clean = live.get("exit_code") == 0 and live.get("state") == "stopped"
    if clean and (live.get("status") or {}).get("live_from"):
        return None
    if clean:
        return (f"live detection never scored a step: it had {live.get('cpu_s')} CPU seconds before the run ended, and a "
                "process in a low-weight CPU group gets none while the host is busy (see the host-load warnings)")
    return (f"live detection ended {live.get('state') or 'without a status'} (exit code {live.get('exit_code')}): "
            f"{live.get('reason') or 'see live/session.log'}")


def run_phases(plan: RunPlan, state: RunState) -> dict[str, tuple[float, float]]:
    """The recorded phases in unix seconds: ``training`` (after the warm-up) and ``faults`` (to the end)."""
    assert state.load_start is not None and state.fault_start is not None and state.end is not None
    start = state.load_start + plan.warmup_s
    fault_start = min(state.fault_start, state.end)
    return {"training": (start, fault_start), "faults": (fault_start, state.end)}


def host_load_summary(readings: list[hostload.Reading], plan: RunPlan, state: RunState, log: Log, live=None) -> dict:
    """The host's outside load per phase (training, faults); its warnings go to the log too.

    ``state`` has reached the end of the live phase (load, fault phase and end times set). With
    a live process (``live``, stopped), each phase also says how many cores it used
    (``live_cores``: part of the outside load) and ``live`` holds its CPU bound and total.
    """
    phases = run_phases(plan, state)
    summary = hostload.summarize(readings, phases, os.cpu_count() or 1)
    for warning in summary["warnings"]:
        log(f"warning: {warning}")
    if live is not None:
        cores = (live.usage or {}).get("cores") or {}
        for name, value in cores.items():
            if name in summary["phases"]:
                summary["phases"][name]["live_cores"] = value
        summary["live"] = dict(live.usage or {})
        used = ", ".join(f"{value:.2f} cores during {name}" for name, value in cores.items()) or "no measurable CPU"
        log(f"live detection used {used} (counted in the outside load; CPU seconds in all: {(live.usage or {}).get('cpu_s')})")
    return summary


def _collect_and_evaluate(scenario: Scenario, plan: RunPlan, folder: RunFolder, state: RunState, log: Log) -> None:
    from faultlab.harness.collect import collect_dataset
    from faultlab.harness.datasets.labels import labels_from_ground_truth, read_ground_truth
    from faultlab.testbed.topology import service_graph

    assert state.load_start is not None and state.end is not None  # called once the load has started and stopped
    config = testbed_config_for(plan)
    start = state.load_start + plan.warmup_s
    end = state.end
    if end - start < 2 * plan.step_s:
        raise RunFailed(f"only {end - start:.0f} s after the warm-up were run: nothing to collect")
    records = read_ground_truth(folder.ground_truth_file) if folder.ground_truth_file.exists() else []
    log("phase: collecting metrics from Prometheus")
    time.sleep(plan.scrape_interval_s * 2)  # let the last scrapes land
    dataset = collect_dataset(
        config.prometheus_url,
        start=pd.Timestamp(start, unit="s", tz="UTC"),
        end=pd.Timestamp(end, unit="s", tz="UTC"),
        step_s=plan.step_s,
        groups=plan.metric_groups,
        services=plan.collect_services,
        monitoring=plan.collect_monitoring,
        graph=service_graph(),
        labels=lambda grid: labels_from_ground_truth(records, grid),
        meta={
            "name": folder.path.name,
            "scenario": scenario.name,
            "train_end": iso_ms(state.fault_start or None),
            "faults": records,
            "host_load": state.host_load,
        },
    )
    dataset.save(folder.dataset_dir)
    log(f"dataset: {len(dataset.metrics)} steps x {dataset.metrics.shape[1]} series, {int(dataset.y.sum())} anomalous steps")
    if state.live is not None:
        live_report(scenario, folder, dataset, log)  # before the leaderboard, whose live section reads it
    if scenario.evaluate.requested:
        evaluate_run(scenario, dataset, folder, log)


def _live_files(folder: RunFolder):
    from faultlab.harness.live.files import LiveFiles

    return LiveFiles(folder.path)


def live_report(scenario: Scenario, folder: RunFolder, dataset, log: Log = _stderr) -> None:
    """The live figures of the run (``live/report.json`` and ``.md``; the leaderboard's live section);
    without offline detectors the live board is the run's leaderboard."""
    from faultlab.harness.live.report import build_report, write_live_board, write_report

    report = build_report(folder.path, dataset)
    write_report(report, folder.path)
    log(f"live: {report.summary_line()}")
    if not scenario.evaluate.requested:
        write_live_board(report, folder.path)


def evaluate_run(scenario: Scenario, dataset, folder: RunFolder, log: Log = _stderr) -> None:
    """Score the scenario's detectors and classifiers on the run's dataset; write the reports."""
    from faultlab.harness.evaluation import run_evaluation
    from faultlab.harness.reports.leaderboard import write_reports

    ev = scenario.evaluate
    log(f"phase: evaluating {len(ev.detectors)} detectors and {len(ev.classifiers)} classifiers")
    protocol = None
    if ev.protocol == "telesto":
        from faultlab.harness.evaluation.protocol import ProtocolOptions

        protocol = ProtocolOptions()
    evaluation = run_evaluation(dataset, ev.detectors, ev.classifiers, None, ev.metrics or None, protocol=protocol)
    write_reports(evaluation, folder.path, extra={"command": "run", "scenario": scenario.name})


def _teardown(plan: RunPlan, log: Log) -> None:
    clean_and_down(testbed_config_for(plan), log)


def clean_and_down(config, log: Log = _stderr) -> None:
    """Remove every fault leftover (``faultlab clean``), then the stack; nothing when no engine answers.

    The one way the testbed goes down: ``faultlab run``, ``faultlab testbed down`` and the test
    fixture all call it, so a fault whose harness was killed never survives the stack.
    """
    from faultlab.injectors.cleanup import clean
    from faultlab.injectors.docker_ops import DockerOps
    from faultlab.testbed.engine import engine_answers
    from faultlab.testbed.lifecycle import down

    if not engine_answers():
        return
    try:
        report = clean(DockerOps())
        for error in report.errors:
            log(f"clean: {error}")
    finally:
        down(config, log=log)
