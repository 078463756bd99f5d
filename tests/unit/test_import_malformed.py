"""A corpus of malformed foreign files: each one gives its own BadInput naming file, line and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faultlab.errors import BadInput
from faultlab.harness.io import import_dataset

TE_HEAD = "timestamp,a,is_anomaly\n"
GOOD_METRICS = "timestamp,cpu\n0,1\n5,1\n10,1\n"

# name -> (format, {relative path: text}, what to import, options, expected message)
CORPUS = {
    "out of order": ("timeeval", {"x.csv": TE_HEAD + "0,1,0\n10,1,0\n5,1,0\n"}, "x.csv", {},
                     "x.csv: line 4, column 'timestamp': timestamp '5' is out of order"),
    "duplicated": ("timeeval", {"x.csv": TE_HEAD + "2025-01-01T00:00:00Z,1,0\n2025-01-01T00:00:00Z,1,0\n"}, "x.csv", {},
                   "x.csv: line 3, column 'timestamp': duplicated timestamp"),
    "unparseable": ("timeeval", {"x.csv": TE_HEAD + "2025-01-01T00:00:00Z,1,0\nyesterday,1,0\n"}, "x.csv", {},
                    "x.csv: line 3, column 'timestamp': unparseable timestamp 'yesterday'"),
    "infinite time": ("timeeval", {"x.csv": TE_HEAD + "0,1,0\ninf,1,0\n"}, "x.csv", {},
                      "x.csv: line 3, column 'timestamp': unparseable timestamp 'inf'"),
    "non-numeric": ("timeeval", {"x.csv": TE_HEAD + "0,1,0\n1,abc,0\n"}, "x.csv", {},
                    "x.csv: line 3, column 'a': 'abc' is not a number"),
    "label 2": ("timeeval", {"x.csv": TE_HEAD + "0,1,0\n1,1,2\n"}, "x.csv", {},
                "x.csv: line 3, column 'is_anomaly': label '2' is not 0 or 1"),
    "no label column": ("timeeval", {"x.csv": "timestamp,a\n0,1\n1,2\n"}, "x.csv", {}, "x.csv: no 'is_anomaly' column"),
    "no series": ("timeeval", {"x.csv": "timestamp,is_anomaly\n0,0\n1,0\n"}, "x.csv", {}, "x.csv: no series columns"),
    "empty file": ("timeeval", {"x.csv": ""}, "x.csv", {}, "x.csv: not a readable CSV file"),
    "header only": ("timeeval", {"x.csv": TE_HEAD}, "x.csv", {}, "x.csv: no data rows"),
    "one row": ("timeeval", {"x.csv": TE_HEAD + "0,1,0\n"}, "x.csv", {}, "x.csv: needs at least two time steps"),
    "train after test": ("timeeval", {"x.train.csv": TE_HEAD + "10,1,0\n11,1,0\n", "x.test.csv": TE_HEAD + "0,1,0\n1,1,0\n"},
                         "x.test.csv", {}, "x.train.csv: its last timestamp"),
    "tsb label -1": ("tsb-ad", {"t.csv": "a,Label\n1,0\n2,-1\n"}, "t.csv", {}, "t.csv: line 3, column 'Label': label '-1' is not 0 or 1"),
    "tsb no label": ("tsb-ad", {"t.csv": "a,b\n1,0\n2,1\n"}, "t.csv", {}, "t.csv: no 'Label' column"),
    "tsb train too long": ("tsb-ad", {"d_tr_9_1st_1.csv": "a,Label\n1,0\n2,1\n"}, "d_tr_9_1st_1.csv", {},
                           "training length 9 in the file name is outside 1..1"),
    "tsb bad interval": ("tsb-ad", {"t.csv": "a,Label\n1,0\n2,1\n"}, "t.csv", {"interval_s": "soon"}, "interval_s 'soon' is not a number"),
    "smd non-numeric": ("smd", {"train/m.txt": "1,2\n3,4\n", "test/m.txt": "1,2\n3,x\n", "test_label/m.txt": "0\n1\n"}, ".", {},
                        "test/m.txt: line 2, column 'dim_2': 'x' is not a number"),
    "smd label count": ("smd", {"train/m.txt": "1,2\n3,4\n", "test/m.txt": "1,2\n3,4\n", "test_label/m.txt": "0\n"}, ".", {},
                        "test_label/m.txt: 1 labels for 2 test rows"),
    "smd label value": ("smd", {"train/m.txt": "1,2\n3,4\n", "test/m.txt": "1,2\n3,4\n", "test_label/m.txt": "0\nyes\n"}, ".", {},
                        "test_label/m.txt: line 2, column 'label': label 'yes' is not 0 or 1"),
    "smd interpretation": ("smd", {"train/m.txt": "1,2\n", "test/m.txt": "1,2\n3,4\n", "test_label/m.txt": "0\n1\n",
                                   "interpretation_label/m.txt": "1-1:3\n"}, ".", {},
                           "interpretation_label/m.txt: line 1: a dimension is outside 1..2"),
    "smd interpretation syntax": ("smd", {"train/m.txt": "1,2\n", "test/m.txt": "1,2\n3,4\n", "test_label/m.txt": "0\n1\n",
                                          "interpretation_label/m.txt": "one to two\n"}, ".", {},
                                  "interpretation_label/m.txt: line 1: expected 'start-end:d1,d2,...'"),
    "smd two machines": ("smd", {"test/a.txt": "1\n", "test/b.txt": "1\n"}, ".", {}, "holds 2 machines"),
    "smd not a folder": ("smd", {"other/a.txt": "1\n"}, ".", {}, "not a Server Machine Dataset folder"),
    "ms unknown service": ("microservice", {"metrics/cart.csv": GOOD_METRICS, "faults.csv": "time,service,type\n5,carts,cpu\n"}, ".", {},
                           "faults.csv: line 2, column 'service': 'carts' has no metrics file"),
    "ms fault time": ("microservice", {"metrics/cart.csv": GOOD_METRICS, "faults.csv": "time,service,type\nnoon,cart,cpu\n"}, ".", {},
                      "faults.csv: line 2, column 'time': unparseable timestamp 'noon'"),
    "ms duration": ("microservice", {"metrics/cart.csv": GOOD_METRICS, "faults.csv": "time,service,type,duration_s\n5,cart,cpu,-3\n"},
                    ".", {}, "faults.csv: line 2, column 'duration_s': -3.0 is not > 0"),
    "ms fault columns": ("microservice", {"metrics/cart.csv": GOOD_METRICS, "faults.csv": "when,service\n5,cart\n"}, ".", {},
                         "faults.csv: needs columns time (or start), service, type"),
    "ms no timestamp": ("microservice", {"metrics/cart.csv": "t,cpu\n0,1\n"}, ".", {}, "cart.csv: no 'timestamp' column"),
    "ms metric value": ("microservice", {"metrics/cart.csv": "timestamp,cpu\n0,1\n5,high\n"}, ".", {},
                        "cart.csv: line 3, column 'cpu': 'high' is not a number"),
    "ms no metrics": ("microservice", {"metrics/readme.txt": "nothing\n"}, ".", {}, "no metric CSV files"),
    "ms edges": ("microservice", {"metrics/cart.csv": GOOD_METRICS, "edges.csv": "from,to\na,b\n"}, ".", {},
                 "edges.csv: needs columns source, target"),
    "ms pod rule": ("microservice", {"metrics/cart.csv": GOOD_METRICS}, ".", {"pod_rule": "(unclosed"},
                    "pod_rule '(unclosed' is not a valid regular expression"),
    "ms aggregate": ("microservice", {"metrics/cart.csv": GOOD_METRICS}, ".", {"pod_aggregate": "max"},
                     "pod_aggregate 'max' is not mean or sum"),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_malformed_input_names_its_problem(case, tmp_path):
    fmt, files, target, options, expected = CORPUS[case]
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    with pytest.raises(BadInput, match=re.escape(expected)):
        import_dataset(fmt, tmp_path / target, options)


def test_every_message_is_distinct():
    assert len({c[-1] for c in CORPUS.values()}) == len(CORPUS)


def test_missing_path_is_named(tmp_path: Path):
    with pytest.raises(BadInput, match=re.escape(f"{tmp_path / 'gone.csv'}: no such file or folder")):
        import_dataset("timeeval", tmp_path / "gone.csv")
