"""The shop's call graph on the host side: ``testbed/app/topology.json`` as a ``ServiceGraph``.

The graph is defined once (in the app package, which the containers also read) and exported
here into the dataset's ``graph.json`` so graph-based detectors and root-cause ranking use the
same edges the services actually call.
"""

from __future__ import annotations

import json
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


def write_graph(out: str | Path, path: str | Path = TOPOLOGY_FILE) -> Path:
    """Write ``graph.json`` (the dataset format) to ``out`` (a file, or a folder to put it in)."""
    out = Path(out)
    if out.is_dir():
        out = out / "graph.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(service_graph(path).to_json(), indent=2) + "\n")
    return out
