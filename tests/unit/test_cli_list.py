"""`faultlab list ...` reads each registry; a broken import is named, not a traceback."""

from __future__ import annotations

import json

import pytest

from faultlab.harness.cli import main
from faultlab.harness.commands import list as list_command


@pytest.mark.parametrize(("what", "expected"), [
    ("detectors", {"static_threshold", "zscore", "iforest"}),
    ("classifiers", {"random_forest"}),
    ("metrics", {"f1", "pa_f1", "best_f1", "vus_pr", "ac@1", "accuracy"}),
    ("datasets", {"synthetic", "synthetic-large"}),
    ("faults", {"cpu", "memory_leak", "packet_loss"}),
])
def test_list_shows_every_registered_name(capsys, what, expected):
    registry = list_command.load_registry(what)
    assert main(["list", what]) == 0
    names = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert names == set(registry.names())
    assert expected <= names


def test_list_json_describes_metric_caveats_and_directions(capsys):
    assert main(["list", "metrics", "--json"]) == 0
    items = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert items["pa_f1"]["caveat"] == "optimistic"
    assert items["best_f1"]["caveat"] == "oracle"
    assert items["mean_delay_s"]["higher_is_better"] is False
    assert items["ac@3"]["params"] == {"k": 3}


def test_list_detectors_shows_parameters(capsys):
    assert main(["list", "detectors"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("zscore"))
    assert "params: threshold, threshold_mode" in line and "smooth_steps" in line


def test_unknown_registry_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["list", "gizmos"])
    assert exc.value.code == 2


def test_list_detectors_all_adds_the_unavailable_ones_with_the_reason(capsys, monkeypatch):
    """A module's UNAVAILABLE_DETECTORS (name -> reason) show up with --all only, marked unavailable."""
    import sys
    import types

    registry = list_command.load_registry("detectors")
    fake = types.ModuleType("faultlab.detectors.fake_adapter")
    fake.UNAVAILABLE_DETECTORS = {"fake:Heavy": "needs downloaded weights"}
    monkeypatch.setitem(sys.modules, "faultlab.detectors.fake_adapter", fake)
    assert main(["list", "detectors"]) == 0
    assert "fake:Heavy" not in capsys.readouterr().out
    assert main(["list", "detectors", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("fake:Heavy") and "unavailable: needs downloaded weights" in line for line in lines)
    assert set(registry.names()) <= {line.split()[0] for line in lines}
    assert main(["list", "detectors", "--all", "--json"]) == 0
    items = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert items["fake:Heavy"]["unavailable"] == "needs downloaded weights"
