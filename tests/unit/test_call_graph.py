"""``call_graph``: a callee's failure that shows only at its callers is blamed on the callee.

A hand-made shop: ``gateway`` calls ``cart`` and ``catalog``; ``cart`` and ``catalog`` both call the
database ``redis`` (which has container series only). Every service has CPU use, a request rate,
latency and an error rate; every call edge has ``<caller>:calls_to_<callee>_per_s`` and
``..._latency_mean_s``. Faults (steps, end exclusive), each after a fault-free stretch:

- 130..150 ``kill`` of ``cart``: cart's series vanish (masked, forward-filled: their values do not
  move); gateway's calls to cart time out (latency x100) and gateway's errors rise;
- 190..210 ``pause`` of ``catalog``: catalog's CPU counter stops (0, flat), its scraped series vanish;
  gateway's calls to it hang;
- 250..270 ``packet_loss`` at ``cart``: gateway's calls to cart and cart's own calls to redis are slow,
  catalog's calls to redis are not (redis is fine), gateway's latency rises;
- 310..330 ``http_flood`` at ``gateway``: 10x requests at gateway, which calls cart 10x as often;
  cart's CPU, requests and latency rise with the load it is sent.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.detectors.call_graph import CallGraph, column_roles
from faultlab.detectors.localizers import make_localizer, normal_steps
from faultlab.errors import BadInput
from faultlab.harness.evaluation.localizer_rows import labelled_segments, score_localizer
from faultlab.harness.evaluation.table import FROM_ALARM, SEGMENTS, MethodSpec
from faultlab.harness.scoring import METRICS

SERVICES = ("gateway", "cart", "catalog")
EDGES = (("gateway", "cart"), ("gateway", "catalog"), ("cart", "redis"), ("catalog", "redis"))
STEPS, TRAIN_END = 360, 100
KILL, PAUSE, LOSS, FLOOD = (130, 150), (190, 210), (250, 270), (310, 330)
FAULTS = ((KILL, "kill", "cart"), (PAUSE, "pause", "catalog"), (LOSS, "packet_loss", "cart"), (FLOOD, "http_flood", "gateway"))


def _column(service: str, metric: str, kind: str = "gauge", group: str = "application", unit: str = "") -> dict[str, str]:
    return {"name": f"{service}:{metric}", "service": service, "metric": metric, "group": group, "kind": kind, "unit": unit}


def make_shop(seed: int = 0) -> Dataset:
    """The dataset of the module docstring (noise seeded)."""
    rng = np.random.default_rng(seed)
    cols, values = [], {}

    def add(col: dict[str, str], level: float, noise: float = 0.05) -> None:
        cols.append(col)
        values[col["name"]] = level * (1.0 + noise * rng.standard_normal(STEPS))

    for s in SERVICES:
        add(_column(s, "cpu_cores", "counter", "cpu", "cores"), 0.05)
        add(_column(s, "memory_bytes", "gauge", "memory", "bytes"), 3e7, 0.01)
        add(_column(s, "request_rate", "counter", unit="requests/s"), 10.0)
        add(_column(s, "latency_mean_s", unit="s"), 0.01)
        add(_column(s, "error_rate", "counter", unit="requests/s"), 0.0)
    add(_column("redis", "cpu_cores", "counter", "cpu", "cores"), 0.02)
    add(_column("redis", "memory_bytes", "gauge", "memory", "bytes"), 1e7, 0.01)
    for caller, callee in EDGES:
        add(_column(caller, f"calls_to_{callee}_per_s", "counter", unit="requests/s"), 5.0)
        add(_column(caller, f"calls_to_{callee}_latency_mean_s", unit="s"), 0.004)
    v = values
    mask = {name: np.zeros(STEPS, dtype=bool) for name in v}
    # kill cart: its own series vanish (filled forward), gateway's calls to it time out and fail
    a, b = KILL
    for name in [c["name"] for c in cols if c["service"] == "cart"]:
        v[name][a:b] = v[name][a - 1]
        mask[name][a:b] = True
    v["gateway:calls_to_cart_latency_mean_s"][a:b] = 0.4
    v["gateway:error_rate"][a:b] = 3.0
    v["gateway:latency_mean_s"][a:b] *= 20
    v["gateway:cpu_cores"][a:b] *= 1.5  # handling the failures costs the caller CPU
    # pause catalog: its CPU stops, its scraped series vanish, gateway's calls to it hang
    a, b = PAUSE
    v["catalog:cpu_cores"][a:b] = 0.0
    for metric in ("request_rate", "latency_mean_s", "error_rate", "calls_to_redis_per_s", "calls_to_redis_latency_mean_s"):
        v[f"catalog:{metric}"][a:b] = v[f"catalog:{metric}"][a - 1]
        mask[f"catalog:{metric}"][a:b] = True
    v["gateway:calls_to_catalog_latency_mean_s"][a:b] = 2.0
    v["gateway:error_rate"][a:b] = 1.0
    # packet loss at cart: its callers' and its own calls are slow; redis's other caller sees nothing
    a, b = LOSS
    v["gateway:calls_to_cart_latency_mean_s"][a:b] *= 60
    v["cart:calls_to_redis_latency_mean_s"][a:b] *= 60
    v["cart:latency_mean_s"][a:b] *= 40
    v["gateway:latency_mean_s"][a:b] *= 30
    # HTTP flood at gateway: it and the traffic it sends to cart grow 10x, cart slows under the load
    a, b = FLOOD
    for name in ("gateway:request_rate", "gateway:calls_to_cart_per_s", "cart:request_rate", "cart:calls_to_redis_per_s"):
        v[name][a:b] *= 10
    v["gateway:cpu_cores"][a:b] *= 8
    v["cart:cpu_cores"][a:b] *= 8
    v["cart:latency_mean_s"][a:b] *= 30
    v["gateway:calls_to_cart_latency_mean_s"][a:b] *= 30
    index = pd.date_range("2026-01-01", periods=STEPS, freq="1s", tz="UTC", name="timestamp")
    labels = pd.DataFrame({"anomaly": np.zeros(STEPS, dtype=np.int8), "fault_type": "", "root_cause": "", "fault_id": ""},
                          index=index)
    for (a, b), kind, target in FAULTS:
        labels.iloc[a:b, 0] = 1
        labels.iloc[a:b, 1:4] = [kind, target, f"f-{kind}"]
    graph = ServiceGraph([{"name": s, "kind": "service"} for s in (*SERVICES, "redis")],
                         [{"source": s, "target": t} for s, t in EDGES])
    meta = {"name": "callgraph-handmade", "scrape_interval_s": 1.0, "train_end": index[TRAIN_END].isoformat(), "columns": cols,
            "candidates": [*SERVICES, "redis"]}
    return Dataset(pd.DataFrame(v, index=index), labels, graph, meta, pd.DataFrame(mask, index=index))


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return make_shop()


def _top(data: Dataset, segment: tuple[int, int], name: str = "call_graph") -> str:
    localizer = make_localizer(name).fit(data.train())
    return localizer.localize(data, [segment])[0].top_services(1)[0]


@pytest.mark.parametrize("segment, culprit", [(KILL, "cart"), (PAUSE, "catalog"), (LOSS, "cart"), (FLOOD, "gateway")])
def test_the_faulty_service_is_ranked_first(shop, segment, culprit):
    assert _top(shop, segment) == culprit


def test_a_killed_callee_that_shows_only_at_its_caller_is_blamed_where_per_service_rankers_blame_the_caller(shop):
    # cart's own values do not move (they were filled forward): a ranker of each service's own change blames gateway.
    assert _top(shop, KILL, "cpu_change") != "cart"
    localizer = make_localizer("call_graph").fit(shop.train())
    evidence = localizer.evidence(shop, normal_steps(shop, KILL[0], 120), np.arange(*KILL))
    assert evidence.stall["cart"] > 0.9 * np.log1p(localizer.params.stall_z), "every cart series vanished"
    assert evidence.blame["cart"] > np.log1p(localizer.params.threshold_z), "its caller's calls to it are slow"
    assert evidence.sym["gateway"] > evidence.score["gateway"], "gateway's errors are explained by its dead callee"


def test_without_the_mask_the_callers_edges_alone_blame_the_callee(shop):
    unmasked = replace(shop, mask=None)  # no vanishing to read: only gateway's errors and slow calls to cart are left
    assert _top(unmasked, KILL) == "cart"


def test_a_shared_database_slow_for_one_caller_only_is_not_blamed(shop):
    localizer = make_localizer("call_graph").fit(shop.train())
    evidence = localizer.evidence(shop, normal_steps(shop, LOSS[0], 120), np.arange(*LOSS))
    assert evidence.blame["redis"] < 1.0, "catalog's calls to redis are as fast as ever: redis is fine"
    assert evidence.score["cart"] > 3 * evidence.score["redis"]


def test_load_sent_by_the_caller_is_not_the_callees_fault(shop):
    localizer = make_localizer("call_graph").fit(shop.train())
    evidence = localizer.evidence(shop, normal_steps(shop, FLOOD[0], 120), np.arange(*FLOOD))
    assert evidence.load["cart"] > np.log1p(localizer.params.threshold_z)
    assert evidence.score["gateway"] > evidence.score["cart"]


def test_metric_ranking_starts_with_the_blamed_services_columns(shop):
    ranking = make_localizer("call_graph").fit(shop.train()).localize(shop, [KILL])[0]
    owner = dict(zip(shop.columns["name"], shop.columns["service"]))
    assert owner[ranking.metrics[0][0]] == "cart"


def test_roles_come_from_the_column_table(shop):
    roles = column_roles(shop)
    assert set(roles.edges) == set(EDGES)
    assert shop.columns["name"][roles.latency[("gateway", "cart")]] == "gateway:calls_to_cart_latency_mean_s"
    assert "redis" not in roles.symptom  # a database without application series


def test_no_graph_and_no_edge_series_is_bad_input_naming_the_need(shop):
    bare_columns = [c for c in shop.meta["columns"] if "calls_to_" not in c["metric"]]
    names = [c["name"] for c in bare_columns]
    bare = replace(shop, metrics=shop.metrics[names], mask=shop.mask[names], graph=ServiceGraph([], []),
                   meta={**shop.meta, "name": "no-graph", "columns": bare_columns})
    with pytest.raises(BadInput, match=r"^call_graph needs the service call graph .*dataset 'no-graph' has neither$"):
        make_localizer("call_graph").localize(bare, [KILL])


def test_on_the_board_it_reaches_every_fault_from_the_labelled_window_and_from_the_alarm(shop):
    metrics = [METRICS.get("ac@1")]
    rows = score_localizer(shop, MethodSpec("call_graph"), 0, metrics)
    values = {(r["metric"], r["protocol"], r["breakdown"]): r["value"] for r in rows}
    assert values[("ac@1", SEGMENTS, "all")] == 1.0
    assert values[("n_faults", SEGMENTS, "fault_type=kill")] == 1.0
    assert len(labelled_segments(shop)) == 4
    assert values[("ac@1", FROM_ALARM, "all")] == 1.0, "zscore alarms in every fault, and 10 steps from it suffice"
    assert values[("rca_missed", FROM_ALARM, "all")] == 0.0


def test_is_a_registered_segment_localizer():
    assert issubclass(type(make_localizer("call_graph")), CallGraph)
    assert CallGraph.__doc__.startswith("Services ranked by anomaly propagated over the call graph")
