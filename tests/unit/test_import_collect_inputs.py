"""The inputs of ``faultlab collect`` that need no Prometheus: queries files and incident CSVs."""

from __future__ import annotations

import re

import pytest

from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.io.prometheus import (
    incidents_to_records,
    read_label_records,
    read_queries,
)


def test_queries_file_becomes_catalogue_entries(tmp_path):
    file = tmp_path / "q.yaml"
    file.write_text("- {metric: rps, query: 'sum by (service) (rate(http_requests_total[1m]))', kind: gauge, unit: requests/s}\n"
                    "- {metric: cpu, query: node_cpu_seconds_total, kind: counter, group: cpu, service: host}\n")
    first, second = read_queries(file)
    assert (first.metric, first.kind, first.group, first.service) == ("rps", "gauge", "application", None)
    assert (second.kind, second.group, second.service) == ("counter", "cpu", "host")


def test_incidents_become_ground_truth_records_in_time_order(tmp_path):
    file = tmp_path / "inc.csv"
    file.write_text("start,end,service,type,id\n2025-01-01T00:10:00Z,2025-01-01T00:11:00Z,db,disk,\n"
                    "1735689600,1735689660,api;web,cpu,INC-7\n")
    first, second = incidents_to_records(file)
    assert first["fault_id"] == "INC-7" and first["targets"] == ["api", "web"]
    assert first["applied_at"] == "2025-01-01T00:00:00.000Z" and first["reverted_at"] == "2025-01-01T00:01:00.000Z"
    assert second["fault_id"] == "i002-disk" and second["outcome"] == "reverted"


#: (text of a queries file, what the error says): it names the entry and the field
BAD_QUERIES = [
    ("[]", "expected a non-empty list of queries"),
    ("- {metric: a}", "queries[0]: field 'query' is missing"),
    ("- {metric: a, query: b, kind: histogram}", "queries[0]: metric 'a': kind 'histogram' is not counter or gauge"),
    ("- {metric: a, query: b, group: gpu}", "queries[0]: metric 'a': group 'gpu' is not one of"),
    ("- {metric: a, query: b, labels: x}", "queries[0]: unknown field 'labels'"),
    ("- [a, b", "not valid YAML"),
]
#: (text of an incident CSV, what the error says): it names the line and the column
BAD_INCIDENTS = [
    ("start,service,type\n0,a,cpu\n", "missing end"),
    ("start,end,service,type\n10,5,a,cpu\n", "line 2, column 'end': '5' is before the start"),
    ("start,end,service,type\nsoon,5,a,cpu\n", "line 2, column 'start': unparseable timestamp 'soon'"),
    ("start,end,service,type\n0,5,,cpu\n", "line 2: empty service"),
]


@pytest.mark.parametrize("reader, name, text, message", [
    *[pytest.param(read_queries, "q.yaml", text, message, id=f"queries-{i}") for i, (text, message) in enumerate(BAD_QUERIES)],
    *[pytest.param(incidents_to_records, "inc.csv", text, message, id=f"incidents-{i}") for i, (text, message) in enumerate(BAD_INCIDENTS)],
])
def test_bad_file_makes_the_reader_name_the_place(tmp_path, reader, name, text, message):
    file = tmp_path / name
    file.write_text(text)
    with pytest.raises(BadInput, match=re.escape(message)):
        reader(file)


def test_labels_file_kind_by_extension(tmp_path):
    with pytest.raises(BadInput, match="expected a ground-truth journal"):
        read_label_records(tmp_path / "labels.txt")


def test_collect_from_nowhere_fails_clearly(tmp_path, capsys):
    code = main(["collect", "--prometheus", "http://127.0.0.1:9", "--start", "0", "--end", "60",
                 "--labels", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "ds")])
    assert code == 2 and "missing.csv" in capsys.readouterr().err


def test_an_unreadable_time_names_its_flag_and_nothing_is_fetched(tmp_path, capsys):
    code = main(["collect", "--prometheus", "http://127.0.0.1:9", "--start", "0", "--end", "soon",
                 "--out", str(tmp_path / "ds")])
    err = capsys.readouterr().err
    assert code == 2 and "--end: 'soon' is neither unix seconds nor an ISO 8601 time" in err
    assert not (tmp_path / "ds").exists()
