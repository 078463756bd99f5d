"""Root-cause localizers: the interface, the reference rankers, the catalogue and their scoring."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from faultlab.detectors import fault_segments, make_detector
from faultlab.detectors.base import RootCauseRanking
from faultlab.detectors.localizers import (
    DetectorAsLocalizer,
    SegmentLocalizer,
    localizer_classes,
    make_localizer,
    normal_steps,
    services_from_metrics,
)
from faultlab.detectors.rankers import cpu_columns
from faultlab.detectors.registry import DETECTORS, LOCALIZERS
from faultlab.errors import BadInput, RunFailed
from faultlab.harness.cli import main
from faultlab.harness.evaluation import run_evaluation
from faultlab.harness.evaluation.localizer_rows import labelled_segments, score_localizer, segment_scores
from faultlab.harness.evaluation.table import SEGMENTS, MethodSpec
from faultlab.harness.reports.leaderboard import write_reports
from faultlab.harness.scoring import METRICS
from tests import rcadata

CPU_FAULT, MEMORY_FAULT = (60, 70), (80, 90)
RCA_METRICS = [METRICS.get(n) for n in ("ac@1", "ac@3", "avg@5")]


@pytest.fixture(scope="module")
def data():
    return rcadata.make()


def without_cpu(data, keep=()):
    """``data`` without the CPU group's series, but those of the services in ``keep``."""
    columns = [c for c in data.meta["columns"] if c["group"] != "cpu" or c["service"] in keep]
    names = [c["name"] for c in columns]
    return replace(data, metrics=data.metrics[names], meta={**data.meta, "name": "no-cpu", "columns": columns})


# ---- the normal period ---------------------------------------------------------------------
def test_normal_period_skips_earlier_faults_and_keeps_the_last_steps(data):
    normal = normal_steps(data, MEMORY_FAULT[0], limit=25)
    assert len(normal) == 25
    assert normal[-1] == MEMORY_FAULT[0] - 1
    assert not set(normal) & set(range(*CPU_FAULT)), "an earlier fault is not normal"
    assert normal[0] == 45  # 10 steps after the CPU fault, then 15 before it


def test_no_fault_free_step_before_the_segment_is_bad_input(data):
    with pytest.raises(BadInput, match="normal period"):
        normal_steps(data, 1, limit=10)


# ---- reference rankers -----------------------------------------------------------------------
def test_cpu_change_ranks_the_service_whose_cpu_changed(data):
    ranking = make_localizer("cpu_change").localize(data, [CPU_FAULT])[0]
    assert ranking.top_services(1) == ["cart"]
    assert ranking.metrics[0][0] == "odd-7", "the CPU series is found through the column table, not its name"
    assert ranking.metrics[0][1] == pytest.approx(3.0, abs=0.3)  # x4 -> relative change ~3


def test_cpu_change_reads_cpu_use_only_not_quotas_or_process_counts(data):
    names = set(cpu_columns(data)["name"])
    assert names == {"gateway:cpu_cores", "odd-7", "catalog:cpu_cores", "host:cpu_busy_cores"}
    ranking = make_localizer("cpu_change").localize(data, [MEMORY_FAULT])[0]
    # gateway starts 3 processes here (a decoy, +75 %); its CPU use does not change.
    assert dict(ranking.services)["gateway"] < 0.2


def test_random_ranks_every_service_once_and_is_seeded(data):
    a = make_localizer("random", seed=3).localize(data, [CPU_FAULT, MEMORY_FAULT])
    b = make_localizer("random", seed=3).localize(data, [CPU_FAULT, MEMORY_FAULT])
    assert [r.services for r in a] == [r.services for r in b]
    assert sorted(a[0].top_services(10)) == sorted([*rcadata.CANDIDATES, "host"])
    orders = {tuple(make_localizer("random", seed=s).localize(data, [CPU_FAULT])[0].top_services(10)) for s in range(8)}
    assert len(orders) > 1


def test_random_floor_is_near_its_expected_value(data):
    # 20 draws per seed x 2 segments x 10 seeds; over 3 candidates the expected AC@1 is 1/3.
    values = []
    for seed in range(10):
        rows = score_localizer(data, MethodSpec("random"), seed, RCA_METRICS)
        values += [r["value"] for r in rows if r["metric"] == "ac@1" and r["breakdown"] == "all"]
    assert np.mean(values) == pytest.approx(1 / 3, abs=0.1)


# ---- a localizer that lacks the series it needs ---------------------------------------------
def test_cpu_change_without_cpu_series_is_bad_input_naming_it_the_dataset_and_the_need(data):
    with pytest.raises(BadInput, match=r"^cpu_change needs CPU-use series \(group cpu, unit cores, kind counter\); "
                                       r"dataset 'no-cpu' has none$"):
        make_localizer("cpu_change").localize(without_cpu(data), [CPU_FAULT])


def test_cpu_change_with_cpu_series_of_context_services_only_is_bad_input(data):
    with pytest.raises(BadInput, match="dataset 'no-cpu' has only for host, none of its candidate services"):
        make_localizer("cpu_change").localize(without_cpu(data, keep=("host",)), [CPU_FAULT])
    ranking = make_localizer("cpu_change").localize(without_cpu(data, keep=("host", "cart")), [CPU_FAULT])[0]
    assert ranking.top_services(1) == ["cart"], "one candidate with CPU series is evidence enough"


def test_the_board_shows_cpu_change_without_cpu_series_as_na_with_the_reason(data, tmp_path, capsys):
    rows = score_localizer(without_cpu(data), MethodSpec("cpu_change"), 0, RCA_METRICS)
    assert rows and all(np.isnan(r["value"]) for r in rows)
    assert all(r["reason"].startswith("cpu_change needs CPU-use series") for r in rows)
    assert "cpu_change needs CPU-use series" in capsys.readouterr().err
    evaluation = run_evaluation(without_cpu(data), [], [], [0], ["ac@1", "ac@3"], localizers=["random", "cpu_change"])
    section = write_reports(evaluation, tmp_path)["markdown"].read_text().split("### Root-cause localizers", 1)[1]
    line = next(x for x in section.splitlines() if "| cpu_change |" in x)
    assert "n/a" in line and "0.000" not in line
    assert "cpu_change needs CPU-use series (group cpu, unit cores, kind counter); dataset 'no-cpu' has none" in section
    capsys.readouterr()


# ---- detectors as localizers, the catalogue --------------------------------------------------
def test_zscore_as_a_localizer_ranks_like_the_detector(data):
    wrapped = make_localizer("zscore").fit(data.train())
    assert isinstance(wrapped, DetectorAsLocalizer) and wrapped.name == "zscore"
    detector = make_detector("zscore").fit(data.train())
    assert wrapped.localize(data, [CPU_FAULT])[0].services == detector.localize(data, [CPU_FAULT])[0].services


def test_detector_as_localizer_takes_the_detectors_parameters_and_refuses_a_non_localizer():
    wrapped = make_localizer("zscore", {"threshold": 4.0}, seed=2)
    assert wrapped.get_params() == make_detector("zscore", {"threshold": 4.0}).get_params() and wrapped.seed == 2
    with pytest.raises(BadInput, match="detector 'zscore': unknown parameter 'normal_steps'"):
        make_localizer("zscore", {"normal_steps": 10})
    with pytest.raises(BadInput, match="detector 'iforest' cannot rank root causes; localizers: .*zscore"):
        DetectorAsLocalizer("iforest")


def test_catalogue_lists_registered_rankers_and_localizing_detectors():
    classes = localizer_classes()
    assert {"random", "cpu_change", "zscore"} <= set(classes)
    assert list(classes) == sorted(classes)
    assert "iforest" not in classes  # not a Localizer
    assert issubclass(classes["random"], SegmentLocalizer)
    assert classes["zscore"] is DETECTORS.get("zscore")
    assert set(LOCALIZERS.names()) < set(classes), "one registry: detectors are not registered a second time"


def test_localizers_are_plain_classes_made_by_no_function():
    """No class is made at run time (``type(...)``) and no Registry is subclassed for localizers."""
    root = Path(__file__).resolve().parents[2] / "detectors"
    for file in ("localizers.py", "rankers.py", "rcaeval_adapter.py"):
        tree = ast.parse((root / file).read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "type"]
        assert not [c for c in calls if len(c.args) == 3], f"{file} makes classes at run time"
        bases = {b.id for n in ast.walk(tree) if isinstance(n, ast.ClassDef) for b in n.bases if isinstance(b, ast.Name)}
        assert "Registry" not in bases, file


def test_unknown_localizer_or_parameter_is_one_clear_sentence():
    with pytest.raises(BadInput, match="unknown localizer 'nope'; valid: .*cpu_change"):
        make_localizer("nope")
    with pytest.raises(BadInput, match="normal_steps"):
        make_localizer("cpu_change", {"normal_steps": 1})
    with pytest.raises(BadInput, match="seed"):
        make_localizer("random", {"seed": 1})


def test_list_localizers(capsys):
    assert main(["list", "localizers"]) == 0
    out = capsys.readouterr().out
    for name in ("random", "cpu_change", "zscore", "rcaeval:baro"):
        assert any(line.startswith(name + " ") for line in out.splitlines())
    assert "Detector 'zscore' as a localizer (fitted on the train part): " in out
    assert main(["list", "localizers", "--json"]) == 0
    listed = {e["name"]: e["description"] for e in json.loads(capsys.readouterr().out)}
    assert list(listed) == list(localizer_classes())
    assert listed["cpu_change"].startswith("Services ranked by the largest relative change of their CPU use")


# ---- scoring ---------------------------------------------------------------------------------
def test_services_from_metrics_map_columns_through_the_table(data):
    ranked = services_from_metrics(data, [("odd-7", 3.0), ("catalog:memory_bytes", 2.0), ("cart:processes", 1.0)])
    assert [s for s, _ in ranked][:2] == ["cart", "catalog"]
    assert sorted(s for s, _ in ranked) == sorted([*rcadata.CANDIDATES, "host"])


def test_a_context_service_ranked_first_does_not_cost_a_place(data):
    segments = labelled_segments(data)
    rankings = [RootCauseRanking(s.start, s.end, "", "", [("host", 9.0), (s.root_cause[0], 5.0), ("gateway", 1.0)])
                for s in segments]
    scores = segment_scores(data, rankings, segments, RCA_METRICS)
    assert scores[("ac@1", SEGMENTS, "all")] == 1.0
    wrong = [RootCauseRanking(s.start, s.end, "", "", [("gateway", 9.0), ("host", 5.0)]) for s in segments]
    assert segment_scores(data, wrong, segments, RCA_METRICS)[("ac@1", SEGMENTS, "all")] == 0.0


def test_run_evaluation_with_localizers_only_gives_localizer_rows(data):
    table = run_evaluation(data, [], [], [0], ["ac@1", "ac@3", "avg@5"], localizers=["random", "cpu_change", "zscore"]).table
    assert set(table["kind"]) == {"localizer"}
    assert set(table["model"]) == {"random", "cpu_change", "zscore"}
    assert set(table["protocol"]) >= {SEGMENTS}
    rows = table[(table["model"] == "cpu_change") & (table["metric"] == "ac@1") & (table["protocol"] == SEGMENTS)]
    rows = rows.set_index("breakdown")["value"]
    assert rows["fault_type=cpu"] == 1.0
    assert {"all", "fault_type=cpu", "fault_type=memory_leak", "target=cart", "target=catalog"} <= set(rows.index)


def test_every_localizer_reports_its_cost_per_segment_as_info_rows(data, monkeypatch):
    clock = iter(range(0, 1000, 4))  # every perf_counter call 4 s later: fit 4 s, 2 segments localized in 4 s
    monkeypatch.setattr("faultlab.harness.evaluation.localizer_rows.time", SimpleNamespace(perf_counter=lambda: next(clock)))
    rows = score_localizer(data, MethodSpec("cpu_change"), 0, RCA_METRICS)
    info = {r["metric"]: r["value"] for r in rows if r["protocol"] == "training"}
    assert info == {"fit_time_s": 4.0, "localize_s_per_segment": 2.0}
    assert len(labelled_segments(data)) == 2


def test_unknown_localizer_or_parameter_fails_before_anything_is_fitted(data):
    with pytest.raises(BadInput, match="unknown localizer"):
        run_evaluation(data, ["zscore"], [], [0], localizers=["nope"])
    with pytest.raises(BadInput, match="normal_steps"):
        run_evaluation(data, [], [], [0], localizers=[{"name": "cpu_change", "params": {"normal_steps": 1}}])


class _Failing(SegmentLocalizer):
    """Always fails (a third-party method raising)."""

    def _rank(self, data, normal, start, end):
        raise RunFailed(f"localizer {self.name!r} failed on segment ({start}, {end})")


def test_a_failing_localizer_gives_na_rows_with_the_reason(data, monkeypatch, capsys):
    monkeypatch.setitem(LOCALIZERS._items, "failing", _Failing)
    monkeypatch.setattr(_Failing, "name", "failing")
    rows = score_localizer(data, MethodSpec("failing"), 0, RCA_METRICS)
    assert rows and all(np.isnan(r["value"]) for r in rows)
    assert all("failed on segment (60, 70)" in r["reason"] for r in rows)
    assert "n/a" in capsys.readouterr().err


def test_segments_are_the_labelled_faults_of_the_test_part(data):
    assert [(s.start, s.end) for s in labelled_segments(data)] == [CPU_FAULT, MEMORY_FAULT]
    assert len(fault_segments(data)) == 2


def test_bench_localizers_reach_the_leaderboard(data, tmp_path, capsys):
    folder = data.save(tmp_path / "dataset")
    out = tmp_path / "out"
    code = main(["bench", "--dataset", str(folder), "--detectors", "none", "--classifiers", "none",
                 "--localizers", "random,cpu_change", "--metrics", "ac@1,ac@3,ac@5,avg@5", "--out", str(out)])
    assert code == 0
    board = (out / "leaderboard.md").read_text()
    section = board.split("### Root-cause localizers", 1)[1]
    assert "| cpu_change |" in section and "random (floor)" in section
    assert "localize_s_per_segment [training]" in section
    assert "localize_s_per_segment [training] (floor" not in section, "a cost column has no floor to beat"
    assert "Root-cause localizers" in (out / "leaderboard.html").read_text()
    capsys.readouterr()
