"""RCAEval's methods behind the localizer interface (``rcaeval:<method>``; the ``rcaeval`` extra).

Tests that run a method skip with the reason when RCAEval is not installed; the missing-package
message is tested either way.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest

from faultlab.detectors.localizers import localizer_classes, make_localizer, normal_steps
from faultlab.detectors.rcaeval_adapter import (
    MAX_SERIES,
    MAX_SERIES_GES,
    MAX_SERIES_NEURAL,
    METHODS,
    NOT_INSTALLABLE,
    PER_SERIES,
    PREFIX,
    RcaEvalLocalizer,
    entry_latency,
    most_changed,
    rcaeval_frame,
    rcaeval_function,
)
from faultlab.errors import BadInput, RunFailed
from tests import rcadata

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


@pytest.mark.parametrize("method", ["baro", "nsigma"])
@pytest.mark.parametrize("segment, culprit, column", [(CPU_FAULT, "cart", "odd-7"), (MEMORY_FAULT, "catalog", "catalog:memory_bytes")])
def test_method_ranks_the_culprit_first_on_a_single_service_fault(data, method, segment, culprit, column):
    ranking = make_localizer(f"rcaeval:{method}").localize(data, [segment])[0]
    assert _first_candidate(ranking) == culprit
    ranked_columns = [m for m, _ in ranking.metrics]
    assert column in ranked_columns[:2], "metric names map back to the dataset's columns"


def test_same_seed_same_ranking(data):
    a = make_localizer("rcaeval:circa", seed=1).localize(data, [CPU_FAULT])[0]
    b = make_localizer("rcaeval:circa", seed=1).localize(data, [CPU_FAULT])[0]
    assert a.services == b.services and a.metrics == b.metrics
    assert sorted(s for s, _ in a.services) == sorted([*rcadata.CANDIDATES, "host"]), "every service is ranked"


def _with_copy(data):
    """``data`` plus ``cart:copy``, an exact multiple of cart's CPU series (``odd-7``)."""
    metrics = data.metrics.assign(**{"cart:copy": 2.0 * data.metrics["odd-7"]})
    copy = {"name": "cart:copy", "service": "cart", "metric": "copy", "group": "cpu", "kind": "counter", "unit": "cores"}
    return replace(data, metrics=metrics, meta={**data.meta, "columns": [*data.meta["columns"], copy]})


def test_a_method_failing_inside_rcaeval_is_named_not_silently_unranked(data):
    # A series that is an exact copy of another makes PC's correlation matrix singular. RCAEval's
    # wrapper would return the column order as if it were a ranking; the adapter says what happened.
    with pytest.raises(RunFailed, match=r"rcaeval:circa' failed on segment \(60, 70\) of 'rca-handmade'.*singular"):
        make_localizer("rcaeval:circa", {"max_series": None}).localize(_with_copy(data), [CPU_FAULT])


def test_the_bounded_input_drops_the_copy_and_records_what_it_kept(data):
    localizer = make_localizer("rcaeval:circa", {"max_series": 5})
    ranking = localizer.localize(_with_copy(data), [CPU_FAULT])[0]
    kept = localizer.kept_[CPU_FAULT]
    assert len(kept) == 5 and kept[0] == "odd-7", "the most changed series first"
    assert "cart:copy" not in kept, "a near-copy of a kept series is skipped (it made PC's matrix singular)"
    assert {m for m, _ in ranking.metrics} <= set(kept), "the ranking's metrics are the kept series"


def test_most_changed_skips_constants_and_copies_and_keeps_the_sli_first(data):
    copied = _with_copy(data)
    normal = normal_steps(copied, CPU_FAULT[0], 120)
    kept = most_changed(copied, normal, *CPU_FAULT, k=4, keep=("gateway:latency_p99_s",))
    assert kept[:2] == ["gateway:latency_p99_s", "odd-7"]
    assert "cart:copy" not in kept and not {"gateway:cpu_quota_cores", "cart:processes"} & set(kept)
    assert len(most_changed(copied, normal, *CPU_FAULT, k=100)) < len(copied.metrics.columns), "constants never kept"


def test_graph_methods_are_bounded_by_default_and_per_series_ones_are_not():
    neural = {"ntlr_pagerank", "ntlr_randomwalk", "cmlp_pagerank", "causalrca", "run"}
    for method in METHODS:
        expected = (None if method in PER_SERIES else MAX_SERIES_NEURAL if method in neural
                    else MAX_SERIES_GES if method == "ges_pagerank" else MAX_SERIES)
        assert make_localizer(f"rcaeval:{method}").params.max_series == expected, method
    assert make_localizer("rcaeval:circa", {"max_series": None}).params.max_series is None, "the cut can be turned off"


def test_the_sli_is_the_entry_services_latency(data):
    assert entry_latency(data) == "gateway:latency_p99_s"
    assert entry_latency(replace(data, graph=type(data.graph)([], []))) is None


@pytest.mark.parametrize("method, said", [("rcd", "local_skeleton_discovery"), ("e_diagnosis", "No module named 'pyrca'"),
                                          ("causalai", "No module named 'causalai'")])
def test_a_method_that_cannot_run_here_is_na_with_its_exact_reason(data, method, said):
    with pytest.raises((BadInput, RunFailed), match=said) as caught:
        make_localizer(f"rcaeval:{method}").localize(data, [CPU_FAULT])
    assert NOT_INSTALLABLE[method] in str(caught.value)
