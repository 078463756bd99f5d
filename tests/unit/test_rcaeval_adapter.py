"""RCAEval's methods behind the localizer interface (``rcaeval:<method>``; the ``rcaeval`` extra).

Tests that run a method skip with the reason when RCAEval is not installed; the missing-package
message is tested either way.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace

import numpy as np
import pytest

from faultlab.detectors.localizers import localizer_classes, make_localizer
from faultlab.detectors.rcaeval_adapter import INSTALL_HINT, METHODS, PREFIX, RcaEvalLocalizer, rcaeval_frame, rcaeval_function
from faultlab.errors import BadInput, RunFailed
from tests import rcadata

HAVE_RCAEVAL = importlib.util.find_spec("RCAEval") is not None and importlib.util.find_spec("causallearn") is not None
needs_rcaeval = pytest.mark.skipif(not HAVE_RCAEVAL, reason=f"optional extra rcaeval not installed ({INSTALL_HINT})")
CPU_FAULT, MEMORY_FAULT = (60, 70), (80, 90)


@pytest.fixture(scope="module")
def data():
    return rcadata.make()


def _first_candidate(ranking) -> str:
    return next(s for s, _ in ranking.services if s in rcadata.CANDIDATES)


def test_every_method_is_a_registered_localizer_and_every_one_is_a_method():
    classes = {name: kind for name, kind in localizer_classes().items() if name.startswith(PREFIX)}
    assert sorted(classes) == sorted(f"rcaeval:{method}" for method in METHODS)
    for name, kind in classes.items():
        assert issubclass(kind, RcaEvalLocalizer) and kind.name == name
        assert make_localizer(name).method in METHODS
    assert localizer_classes()["rcaeval:baro"].__doc__.startswith("RCAEval BARO (Pham et al., FSE 2024)")


def test_missing_package_is_a_clear_message_with_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "RCAEval.e2e.baro", None)  # an import of it now raises ImportError
    with pytest.raises(BadInput, match=r"rcaeval:baro' needs the optional package rcaeval.*pip install --no-deps rcaeval"):
        rcaeval_function("baro")


def test_frame_has_the_normal_period_then_the_segment(data):
    normal = np.arange(40, 60)
    frame, inject_time, names = rcaeval_frame(data, normal, *CPU_FAULT)
    assert len(frame) == 30 and "time" in frame
    assert (frame["time"] < inject_time).sum() == 20 and (frame["time"] >= inject_time).sum() == 10
    assert set(names.values()) == set(data.metrics.columns)
    assert all("_" in n and ":" not in n for n in names)  # neutral names, entity_metric for CIRCA


@needs_rcaeval
@pytest.mark.parametrize("method", ["baro", "nsigma"])
@pytest.mark.parametrize("segment, culprit, column", [(CPU_FAULT, "cart", "odd-7"), (MEMORY_FAULT, "catalog", "catalog:memory_bytes")])
def test_method_ranks_the_culprit_first_on_a_single_service_fault(data, method, segment, culprit, column):
    ranking = make_localizer(f"rcaeval:{method}").localize(data, [segment])[0]
    assert _first_candidate(ranking) == culprit
    ranked_columns = [m for m, _ in ranking.metrics]
    assert column in ranked_columns[:2], "metric names map back to the dataset's columns"


@needs_rcaeval
def test_same_seed_same_ranking(data):
    a = make_localizer("rcaeval:circa", seed=1).localize(data, [CPU_FAULT])[0]
    b = make_localizer("rcaeval:circa", seed=1).localize(data, [CPU_FAULT])[0]
    assert a.services == b.services and a.metrics == b.metrics
    assert sorted(s for s, _ in a.services) == sorted([*rcadata.CANDIDATES, "host"]), "every service is ranked"


@needs_rcaeval
def test_a_method_failing_inside_rcaeval_is_named_not_silently_unranked(data):
    # A series that is an exact copy of another makes PC's correlation matrix singular. RCAEval's
    # wrapper would return the column order as if it were a ranking; the adapter says what happened.
    metrics = data.metrics.assign(**{"cart:copy": 2.0 * data.metrics["odd-7"]})
    copy = {"name": "cart:copy", "service": "cart", "metric": "copy", "group": "cpu", "kind": "counter", "unit": "cores"}
    broken = replace(data, metrics=metrics, meta={**data.meta, "columns": [*data.meta["columns"], copy]})
    with pytest.raises(RunFailed, match=r"rcaeval:circa' failed on segment \(60, 70\) of 'rca-handmade'.*singular"):
        make_localizer("rcaeval:circa").localize(broken, [CPU_FAULT])
