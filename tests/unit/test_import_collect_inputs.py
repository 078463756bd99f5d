"""The inputs of ``faultlab collect`` that need no Prometheus: queries files and incident CSVs."""

from __future__ import annotations

import re

import pytest
from faultlab.harness.cli import main
from faultlab.harness.io.prometheus import (
    incidents_to_records,
    read_label_records,
    read_queries,
)

from faultlab.errors import BadInput


def test_queries_file_becomes_catalogue_entries(tmp_path):
    file = tmp_path / "q.yaml"
    file.write_text("- {metric: rps, query: 'sum by (service) (rate(http_requests_total[1m]))', kind: gauge, unit: requests/s}\n"
                    "- {metric: cpu, query: node_cpu_seconds_total, kind: counter, group: cpu, service: host}\n")
    first, second = read_queries(file)
    assert (first.metric, first.kind, first.group, first.service) == ("rps", "gauge", "application", None)
    assert (second.kind, second.group, second.service) == ("counter", "cpu", "host")


@pytest.mark.parametrize("text, message", [
    ("[]", "expected a non-empty list of queries"),
    ("- {metric: a}", "queries[0]: field 'query' is missing"),
    ("- {metric: a, query: b, kind: histogram}", "queries[0]: metric 'a': kind 'histogram' is not counter or gauge"),
    ("- {metric: a, query: b, group: gpu}", "queries[0]: metric 'a': group 'gpu' is not one of"),
    ("- {metric: a, query: b, labels: x}", "queries[0]: unknown field 'labels'"),
    ("- [a, b", "not valid YAML"),
])
def test_bad_queries_files_name_entry_and_field(tmp_path, text, message):
    file = tmp_path / "q.yaml"
    file.write_text(text)
    with pytest.raises(BadInput, match=re.escape(message)):
        read_queries(file)


def test_incidents_become_ground_truth_records_in_time_order(tmp_path):
    file = tmp_path / "inc.csv"
    file.write_text("start,end,service,type,id\n2025-01-01T00:10:00Z,2025-01-01T00:11:00Z,db,disk,\n"
                    "1735689600,1735689660,api;web,cpu,INC-7\n")
    first, second = incidents_to_records(file)
    assert first["fault_id"] == "INC-7" and first["targets"] == ["api", "web"]
    assert first["applied_at"] == "2025-01-01T00:00:00.000Z" and first["reverted_at"] == "2025-01-01T00:01:00.000Z"
    assert second["fault_id"] == "i002-disk" and second["outcome"] == "reverted"


@pytest.mark.parametrize("text, message", [
    ("start,service,type\n0,a,cpu\n", "missing end"),
    ("start,end,service,type\n10,5,a,cpu\n", "line 2, column 'end': '5' is before the start"),
    ("start,end,service,type\nsoon,5,a,cpu\n", "line 2, column 'start': unparseable timestamp 'soon'"),
    ("start,end,service,type\n0,5,,cpu\n", "line 2: empty service"),
])
def test_bad_incident_csv_names_line_and_column(tmp_path, text, message):
    file = tmp_path / "inc.csv"
    file.write_text(text)
    with pytest.raises(BadInput, match=re.escape(message)):
        incidents_to_records(file)


def test_labels_file_kind_by_extension(tmp_path):
    with pytest.raises(BadInput, match="expected a ground-truth journal"):
        read_label_records(tmp_path / "labels.txt")


def test_collect_from_nowhere_fails_clearly(tmp_path, capsys):
    code = main(["collect", "--prometheus", "http://127.0.0.1:9", "--start", "0", "--end", "60",
                 "--labels", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "ds")])
    assert code == 2 and "missing.csv" in capsys.readouterr().err
