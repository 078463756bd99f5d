"""The call graph in testbed/app/topology.json matches the README contract and exports cleanly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from faultlab.dataset import ServiceGraph
from faultlab.testbed.app.topology import parse_topology
from faultlab.testbed.topology import service_graph

README = Path(__file__).resolve().parents[2] / "testbed" / "README.md"


def _readme_table() -> dict[str, tuple[int, set[str]]]:
    """``service -> (port, callees)`` from the README's services table."""
    rows: dict[str, tuple[int, set[str]]] = {}
    for line in README.read_text().splitlines():
        m = re.match(r"^\|\s*([a-z-]+)\s*\|\s*(\d+)\s*\|\s*(.*?)\s*\|$", line)
        if not m:
            continue
        name, port, calls = m.groups()
        callees = set() if calls.startswith("(") else {c.strip() for c in calls.split(",")}
        rows[name] = (int(port), callees)
    return rows


def test_graph_matches_readme_table() -> None:
    table = _readme_table()
    assert len(table) == 9  # 7 services + postgres + redis
    graph = service_graph()
    assert set(graph.names) == set(table)
    for name, (_, callees) in table.items():
        got = {e["target"] for e in graph.edges if e["source"] == name}
        assert got == callees, name
    kinds = {n["name"]: n["kind"] for n in graph.nodes}
    assert kinds["postgres"] == kinds["redis"] == "database"
    assert sorted(n for n, k in kinds.items() if k == "service") == sorted(
        ["gateway", "catalog", "cart", "recommendation", "checkout", "payment", "shipping"]
    )


def test_ports_match_readme_table() -> None:
    from faultlab.testbed.app.topology import load_topology

    topo = load_topology()
    for name, (port, _) in _readme_table().items():
        assert topo.node(name).port == port, name


def test_adjacency_of_exported_graph() -> None:
    graph = service_graph()
    order = ["gateway", "catalog", "postgres"]
    adj = graph.adjacency(order)
    np.testing.assert_array_equal(adj, [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert graph.edge_index().shape == (2, 12)


def test_graph_round_trips_through_json() -> None:
    loaded = ServiceGraph.from_json(json.loads(json.dumps(service_graph().to_json())))
    assert loaded == service_graph()
    assert set(loaded.nodes[0]) == {"name", "kind"}


def test_edges_to_unknown_nodes_are_rejected() -> None:
    data = {
        "nodes": [{"name": "a", "kind": "service", "port": 1}],
        "edges": [{"source": "a", "target": "ghost"}],
    }
    with pytest.raises(ValueError, match="ghost"):
        parse_topology(data)
