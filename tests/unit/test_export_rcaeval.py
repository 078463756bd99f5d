"""Issue 26.4: RCAEval's RE1/RE2 case layout both ways.

The export is checked against how RCAEval's own ``main.py`` reads a case (``**/data.csv``, the
service and fault from ``<service>_<fault>``, ``int(inject_time.txt)``); the round trip on
``bench-mixed`` gives back the services, fault types, root causes and inject times; and
RCAEval's own BARO on an exported case ranks services exactly as the project's
``rcaeval:baro`` localizer does on the same segment with the same normal period.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faultlab.detectors import fault_segments
from faultlab.detectors.localizers import make_localizer
from faultlab.errors import BadInput
from faultlab.harness.datasets.index import resolve_dataset
from faultlab.harness.io import export_dataset, import_dataset


@pytest.fixture(scope="module")
def bench():
    return resolve_dataset("bench-mixed")


@pytest.fixture(scope="module")
def cases(bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("rcaeval")
    export_dataset(bench, "rcaeval", out)
    return out


def _sidecar(root: Path) -> dict:
    return json.loads((root / "bench-mixed.faultlab.json").read_text())


def _segments(data):
    return [(s.fault_id, s.fault_type, s.root_cause, data.timestamps[s.start], s.end - s.start) for s in fault_segments(data)]


def test_the_layout_reads_as_rcaeval_main_reads_it(bench, cases):
    paths = sorted(cases.glob("**/data.csv"))
    services, candidates = set(bench.services), set(bench.candidates)  # (each is computed from the column table)
    assert len(paths) == len(fault_segments(bench)) == 46  # one case per labelled fault
    assert sorted({p.parent.parent.name for p in paths})[:3] == ["cart_kill", "cart_packet-loss", "cart_pause"]
    for path in paths:
        service, fault = path.parent.parent.name.split("_")  # exactly as RCAEval's main.py splits it
        assert service in candidates and "_" not in fault and path.parent.name.isdigit()
        inject_time = int((path.parent / "inject_time.txt").read_text().splitlines()[0].strip())
        frame = pd.read_csv(path)
        assert frame.columns[0] == "time" and frame["time"].dtype == np.int64 and frame["time"].is_monotonic_increasing
        assert all(c.split("_")[0] in services for c in frame.columns[1:])  # <service>_<metric>
        normal = frame[frame["time"] < inject_time]
        assert 2 <= len(normal) and frame["time"].iloc[-1] - inject_time < 600  # normal period, then the fault only
        assert normal["time"].iloc[0] >= inject_time - 600
    first = pd.read_csv(cases / "gateway_http-flood" / "1" / "data.csv")
    assert len(first) == 600 + 20  # the first fault: 600 s of the fault-free steps before it (RCAEval's cap), its 20 steps


def test_round_trip_gives_back_services_faults_root_causes_and_inject_times(bench, cases):
    back = import_dataset("rcaeval", cases)
    assert back.services == bench.services and back.candidates == bench.candidates and back.graph == bench.graph
    assert _segments(back) == _segments(bench)  # ids, types, root causes, inject times, lengths
    side = _sidecar(cases)
    assert [pd.Timestamp(c["inject_time"], unit="s", tz="UTC") for c in side["cases"]] == [s[3] for s in _segments(bench)]
    assert back.columns.set_index("name").loc["cart:memory_bytes", "group"] == "memory"
    summary = back.meta["import"]["summary"]
    assert summary["train_source"] == "file" and summary["train_rows"] == 600


def test_without_the_sidecar_names_come_from_rcaeval_conventions(cases, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(cases, plain, ignore=shutil.ignore_patterns("*.faultlab.json"))
    back = import_dataset("rcaeval", plain)
    cols = back.columns.set_index("name")
    row = cols.loc["cart_memory_bytes", ["service", "metric", "group", "unit"]].tolist()
    assert row == ["cart", "memory_bytes", "memory", "bytes"]
    assert cols.loc["gateway_latency_p95_s", ["group", "unit"]].tolist() == ["application", "s"]
    first = fault_segments(back)[0]
    assert (first.fault_id, first.fault_type, first.root_cause) == ("gateway_http-flood/1", "http-flood", ("gateway",))
    assert len(back.candidates) == 11  # every service with columns: RCAEval has no candidate list


def test_one_case_alone_and_a_duration(cases):
    one = import_dataset("rcaeval", cases / "gateway_bot-burst" / "2")
    (seg,) = fault_segments(one)
    # the sidecar two levels up gives the exact id and type back
    assert (seg.fault_id, seg.fault_type, seg.root_cause) == ("f005-bot_burst", "bot_burst", ("gateway",))
    assert seg.end == len(one.metrics) and seg.end - seg.start == 20
    short = import_dataset("rcaeval", cases / "gateway_bot-burst" / "2" / "data.csv", {"duration_s": "5"})
    assert short.y.sum() == 5
    both = import_dataset("rcaeval", cases / "gateway_bot-burst")  # one fault's cases: the sidecar is found above them
    assert [s.fault_id for s in fault_segments(both)] == [
        "f004-bot_burst", "f005-bot_burst", "f009-bot_burst", "f014-bot_burst", "f026-bot_burst", "f030-bot_burst",
        "f032-bot_burst", "f035-bot_burst"]


@pytest.mark.parametrize("files, message", [
    ({"cart_cpu/1/data.csv": "time,cart_cpu\n0,1\n1,2\n"}, "no RCAEval case (inject_time.txt beside data.csv)"),
    ({"cart_cpu/1/data.csv": "time,cart_cpu\n0,1\n1,2\n", "cart_cpu/1/inject_time.txt": "soon\n"},
     "inject_time.txt: line 1: 'soon' is not a unix time in seconds"),
    ({"cart_cpu/1/data.csv": "time,cart_cpu\n0,1\n1,2\n", "cart_cpu/1/inject_time.txt": "9\n"},
     "inject_time.txt: 1970-01-01T00:00:09+00:00 is after the case's last row"),
    ({"cartcpu/1/data.csv": "time,cart_cpu\n0,1\n1,2\n", "cartcpu/1/inject_time.txt": "1\n"},
     "RCAEval names a case's folder <service>_<fault> (e.g. cartservice_cpu/1), and 'cartcpu' is not of that form"),
    ({"cart_cpu/1/inject_time.txt": "1\n"}, "no data.csv, simple_metrics.csv, metrics.csv"),
    ({"cart_cpu/1/data.csv": "t,cart_cpu\n0,1\n1,2\n", "cart_cpu/1/inject_time.txt": "1\n"}, "data.csv: no 'time' column"),
    ({"a_cpu/1/data.csv": "time,a_cpu\n0,1\n5,2\n", "a_cpu/1/inject_time.txt": "5\n",
      "b_cpu/1/data.csv": "time,a_cpu\n3,1\n9,2\n", "b_cpu/1/inject_time.txt": "9\n"},
     "overlap in time; import them one at a time"),
])
def test_malformed_cases_name_their_problem(tmp_path, files, message):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    with pytest.raises(BadInput, match=re.escape(message)):
        import_dataset("rcaeval", tmp_path)


def test_export_refuses_what_rcaeval_cannot_hold(bench, tmp_path):
    from dataclasses import replace

    halved = bench.timestamps[0] + (bench.timestamps - bench.timestamps[0]) / 2  # 0.5 s steps
    fast = replace(bench, metrics=bench.metrics.set_axis(halved, axis=0))
    with pytest.raises(BadInput, match="steps under 1 s apart; inject_time.txt holds whole seconds"):
        export_dataset(fast, "rcaeval", tmp_path / "x")
    quiet = replace(bench, labels=bench.labels.assign(anomaly=0, fault_id="", fault_type="", root_cause=""))
    with pytest.raises(BadInput, match="has no labelled fault with a root cause"):
        export_dataset(quiet, "rcaeval", tmp_path / "y")


@pytest.mark.parametrize("case", ["shipping_packet-loss/1", "cart_packet-loss/1", "gateway_slow-clients/2", "shipping_kill/1"])
def test_rcaeval_baro_on_an_exported_case_ranks_as_the_project_localizer(bench, cases, case):
    from RCAEval.e2e.baro import baro  # RCAEval's own BARO (on Python 3.11 RCAEval.e2e.baro is the module)

    entry = next(c for c in _sidecar(cases)["cases"] if c["path"] == case)
    frame = pd.read_csv(cases / case / "data.csv")
    inject_time = int((cases / case / "inject_time.txt").read_text().splitlines()[0].strip())
    ranks = baro(frame, inject_time=inject_time, dataset="re2-ob")["ranks"]  # any dataset name: drop time + constants
    theirs = list(dict.fromkeys(column.split("_")[0] for column in ranks))  # RCAEval: service = text before the first '_'

    segment = next(s for s in fault_segments(bench) if s.fault_id == entry["fault_id"])
    localizer = make_localizer("rcaeval:baro", {"normal_steps": entry["normal_rows"]})  # the case's normal period
    (ranking,) = localizer.localize(bench, [(segment.start, segment.end)])
    ours = [service for service, _ in ranking.services][:len(theirs)]
    assert ours == theirs
    names = _sidecar(cases)["names"]
    assert [names[column] for column in ranks] == [column for column, _ in ranking.metrics]  # metric for metric
