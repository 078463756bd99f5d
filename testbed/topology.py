"""The shop's call graph on the host side: ``testbed/app/topology.json`` as a ``ServiceGraph``.

The graph is defined once (in the app package, which the containers also read) and exported
here into the dataset's ``graph.json`` so graph-based detectors and root-cause ranking use the
same edges the services actually call.
"""

from __future__ import annotations

from pathlib import Path

from faultlab.dataset import ServiceGraph
from faultlab.testbed.app.topology import TOPOLOGY_FILE, load_topology


def service_graph(path: str | Path = TOPOLOGY_FILE) -> ServiceGraph:
    """The call graph (services and databases, caller -> callee) read from ``path``."""
    topo = load_topology(Path(path))
    return ServiceGraph(
        nodes=[{"name": n.name, "kind": n.kind} for n in topo.nodes],
        edges=[{"source": src, "target": dst} for src, dst in topo.edges],
    )
