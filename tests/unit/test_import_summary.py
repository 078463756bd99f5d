"""Issue 24: nothing an import changes is silent. Non-finite values, fills, gaps, re-ordered and
duplicated rows and the train/test split are counted, printed by ``faultlab import`` and kept
in meta.json; order, gap filling and the split are options."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.io import import_dataset


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _csv(rows: list[tuple[str, str, int]]) -> str:
    return "timestamp,v,is_anomaly\n" + "".join(f"{t},{v},{a}\n" for t, v, a in rows)


def _five_min(start: str, n: int, first_value: int = 0) -> list[tuple[str, str, int]]:
    stamps = pd.date_range(start, periods=n, freq="5min")
    return [(t.strftime("%Y-%m-%d %H:%M:%S"), str(first_value + i), 0) for i, t in enumerate(stamps)]


def test_non_finite_values_are_masked_filled_and_counted_with_the_first_place(tmp_path):
    file = _write(tmp_path / "x.csv", "timestamp,a,b,is_anomaly\n0,1,5,0\n1,inf,6,0\n2,3,-inf,0\n3,1e400,8,1\n4,5,9,0\n")
    data = import_dataset("timeeval", file)
    assert np.isfinite(data.metrics.to_numpy()).all()
    np.testing.assert_array_equal(data.metrics["a"], [1, 1, 3, 3, 5])  # filled forward, like a gap
    assert data.mask["a"].tolist() == [False, True, False, True, False] and data.mask["b"].tolist()[2] is True
    summary = data.meta["import"]["summary"]
    assert summary["non_finite"] == 3 and summary["values_filled"] == 3
    assert summary["first_non_finite"] == f"{file}: line 3, column 'a'"


def test_empty_cells_are_filled_and_counted(tmp_path):
    data = import_dataset("timeeval", _write(tmp_path / "x.csv", "timestamp,a,is_anomaly\n0,,0\n1,2,0\n2,,0\n3,NaN,1\n"))
    assert data.meta["import"]["summary"]["values_filled"] == 3 and data.metrics["a"].tolist() == [2, 2, 2, 2]


def test_a_file_without_a_training_part_says_where_its_split_came_from(tmp_path, capsys):
    file = _write(tmp_path / "x.csv", _csv([(str(i), "1", int(i >= 6)) for i in range(10)]))
    assert main(["import", "timeeval", str(file), "--out", str(tmp_path / "ds")]) == 0
    out, err = capsys.readouterr()
    assert "split: 6 train row(s), 4 test row(s), train_end 1970-01-01T00:00:06+00:00 (from: before the first anomaly)" in out
    assert "warning: no fault-free part declared: training on the 6 row(s) before the first anomaly" in err
    assert "--option train_end=TIME|ROWS" in err
    meta = json.loads((tmp_path / "ds" / "meta.json").read_text())
    assert meta["train_end"] == "1970-01-01T00:00:06+00:00"  # declared, not left to a silent default
    assert meta["import"]["summary"]["train_source"] == "before the first anomaly"
    assert meta["import"]["summary"]["rows_read"] == 10


@pytest.mark.parametrize("option, rows", [("4", 4), ("1970-01-01T00:00:03Z", 3)])
def test_train_end_option_is_a_row_count_or_a_timestamp(tmp_path, option, rows):
    file = _write(tmp_path / "x.csv", _csv([(str(i), "1", int(i >= 6)) for i in range(10)]))
    data = import_dataset("timeeval", file, {"train_end": option})
    summary = data.meta["import"]["summary"]
    assert (summary["train_rows"], summary["test_rows"], summary["train_source"]) == (rows, 10 - rows, "option")
    assert len(data.train().metrics) == rows and not summary["warnings"]


def test_train_end_option_wins_over_the_file_and_counts_training_anomalies(tmp_path):
    rows = "\n".join(f"{i},{i * 2},{int(i in (3, 8))}" for i in range(10))
    file = _write(tmp_path / "d_tr_5_1st_3.csv", "x,Label\n" + rows + "\n")
    assert import_dataset("tsb-ad", file).meta["import"]["summary"]["train_source"] == "file"
    data = import_dataset("tsb-ad", file, {"train_end": "7"})
    summary = data.meta["import"]["summary"]
    assert summary["train_rows"] == 7 and summary["train_source"] == "option"
    assert summary["warnings"] == ["1 anomalous step(s) lie in the training part; Dataset.train() leaves them out"]


@pytest.mark.parametrize("value, message", [
    ("0", "import option train_end 0: a row count must be within 1..9"),
    ("10", "import option train_end 10: a row count must be within 1..9"),
    ("soon", "import option train_end 'soon': expected an ISO 8601 time"),
    ("-3", "import option train_end '-3': expected an ISO 8601 time"),
    ("2030-01-01T00:00:00Z", "import option train_end '2030-01-01T00:00:00Z' is outside the data"),
])
def test_a_bad_train_end_names_the_option(tmp_path, value, message):
    file = _write(tmp_path / "x.csv", _csv([(str(i), "1", 0) for i in range(10)]))
    with pytest.raises(BadInput, match=re.escape(message)):
        import_dataset("timeeval", file, {"train_end": value})


def test_a_time_jump_back_is_refused_with_the_option_that_sorts_it(tmp_path):
    # NAB-style 5-minute series whose clock jumps back an hour after 02:00 (the rows repeat 01:05 .. 02:00)
    rows = _five_min("2014-04-01 00:00", 25) + _five_min("2014-04-01 01:05", 20, first_value=100)
    file = _write(tmp_path / "jump.csv", _csv(rows))
    with pytest.raises(BadInput, match=re.escape(f"{file}: line 27, column 'timestamp': timestamp '2014-04-01 01:05:00' "
                                                 "is out of order (earlier than '2014-04-01 02:00:00' on the line before); "
                                                 "--option order=sort")):
        import_dataset("timeeval", file)
    data = import_dataset("timeeval", file, {"order": "sort"})
    summary = data.meta["import"]["summary"]
    # 01:05 .. 01:55 come after 02:00 (11 re-ordered); 01:05 .. 02:00 are written twice (12 dropped)
    assert (summary["rows_read"], summary["rows_reordered"], summary["duplicates_dropped"]) == (45, 11, 12)
    assert len(data.metrics) == 33 and data.timestamps.is_monotonic_increasing
    assert data.metrics["v"].iloc[13] == 100.0  # 01:05 keeps the later row of the file


def test_a_repeated_daylight_saving_hour_is_deduplicated_keeping_the_last(tmp_path):
    # local time without an offset: the 02:00 .. 02:55 hour is written twice when the clocks go back
    rows = _five_min("2014-10-26 00:00", 36) + _five_min("2014-10-26 02:00", 24, first_value=500)
    file = _write(tmp_path / "dst.csv", _csv(rows))
    with pytest.raises(BadInput, match="out of order"):
        import_dataset("timeeval", file)
    data = import_dataset("timeeval", file, {"order": "sort"})
    summary = data.meta["import"]["summary"]
    assert summary["duplicates_dropped"] == 12 and summary["rows_reordered"] == 11 and len(data.metrics) == 48
    assert data.metrics["v"].iloc[24] == 500.0


def test_a_duplicated_timestamp_alone_suggests_sorting(tmp_path):
    file = _write(tmp_path / "x.csv", _csv([("0", "1", 0), ("1", "2", 0), ("1", "3", 0), ("2", "4", 0)]))
    with pytest.raises(BadInput, match=re.escape("line 4, column 'timestamp': duplicated timestamp '1'; --option order=sort")):
        import_dataset("timeeval", file)
    data = import_dataset("timeeval", file, {"order": "sort"})
    assert data.metrics["v"].tolist() == [1, 3, 4] and data.meta["import"]["summary"]["rows_reordered"] == 0


def test_a_sparse_series_keeps_its_steps_unless_gaps_are_filled(tmp_path):
    # 10 rows over 100 steps of 60 s: filling would invent 90 % of the series
    stamps = [0, 60, 120, 1800, 1860, 3600, 3660, 5400, 5460, 5940]
    file = _write(tmp_path / "x.csv", _csv([(str(t), "1", 0) for t in stamps]))
    kept = import_dataset("timeeval", file)
    assert len(kept.metrics) == 10 and kept.meta["import"]["summary"]["gap_steps"] == 90
    filled = import_dataset("timeeval", file, {"fill_gaps": "true"})
    summary = filled.meta["import"]["summary"]
    assert len(filled.metrics) == 100 and summary["gaps_filled"] and summary["gap_steps"] == 90
    assert summary["values_filled"] == 90 and filled.mask["v"].sum() == 90


def test_rows_that_round_onto_one_grid_step_are_counted(tmp_path):
    file = _write(tmp_path / "x.csv", _csv([("0", "1", 0), ("10", "2", 0), ("12", "3", 0), ("20", "4", 0), ("30", "5", 0)]))
    data = import_dataset("timeeval", file, {"fill_gaps": "yes"})
    assert data.meta["import"]["summary"]["rows_merged"] == 1 and data.metrics["v"].tolist() == [1, 3, 4, 5]


@pytest.mark.parametrize("option, message", [
    ({"fill_gaps": "maybe"}, "import option fill_gaps 'maybe' is not true or false"),
    ({"order": "random"}, "import option order 'random' is not one of strict, sort"),
    ({"sidecar": "2"}, "import option sidecar '2' is not true or false"),
])
def test_bad_option_values_name_the_option(tmp_path, option, message):
    file = _write(tmp_path / "x.csv", _csv([("0", "1", 0), ("1", "1", 0)]))
    with pytest.raises(BadInput, match=re.escape(message)):
        import_dataset("timeeval", file, option)


def test_the_cli_prints_every_count(tmp_path, capsys):
    file = _write(tmp_path / "x.csv", "timestamp,a,is_anomaly\n0,1,0\n2,inf,0\n1,,0\n1,4,0\n3,5,0\n4,6,1\n")
    assert main(["import", "timeeval", str(file), "--out", str(tmp_path / "ds"), "--option", "order=sort",
                 "--option", "train_end=2"]) == 0
    out = capsys.readouterr().out
    assert "read: 6 rows; 1 duplicated timestamp(s) dropped, 2 row(s) re-ordered" in out
    assert ("filled: 1 value(s) (mask.parquet marks them); 1 non-finite value(s) masked, "
            f"the first at {file}: line 3, column 'a'") in out
    assert "split: 2 train row(s), 3 test row(s)" in out and "(from: option)" in out
