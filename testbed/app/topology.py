"""The shop's call graph, read from ``topology.json`` (the one place it is defined).

Used inside the containers (which callees a service may call, which endpoints it serves) and
on the host by ``testbed.topology`` (the dataset's ``graph.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOPOLOGY_FILE = Path(__file__).with_name("topology.json")


@dataclass(frozen=True)
class Node:
    name: str
    kind: str  # "service" or "database"
    port: int
    endpoints: tuple[str, ...]  # "METHOD /path" with aiohttp-style {placeholders}


@dataclass(frozen=True)
class Topology:
    """Nodes and caller -> callee edges of the shop."""

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]

    @property
    def services(self) -> list[str]:
        return [n.name for n in self.nodes if n.kind == "service"]

    @property
    def databases(self) -> list[str]:
        return [n.name for n in self.nodes if n.kind == "database"]

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"unknown node {name!r}; valid: {', '.join(n.name for n in self.nodes)}")

    def callees(self, name: str) -> list[str]:
        """What ``name`` calls, in the file's order."""
        self.node(name)
        return [dst for src, dst in self.edges if src == name]


def parse_topology(data: dict[str, Any]) -> Topology:
    """Build a :class:`Topology` from the JSON object, checking that edges name known nodes."""
    nodes = tuple(
        Node(
            name=str(n["name"]),
            kind=str(n["kind"]),
            port=int(n["port"]),
            endpoints=tuple(str(e) for e in n.get("endpoints", ())),
        )
        for n in data["nodes"]
    )
    names = {n.name for n in nodes}
    edges = tuple((str(e["source"]), str(e["target"])) for e in data["edges"])
    for src, dst in edges:
        if src not in names or dst not in names:
            raise ValueError(f"topology edge {src} -> {dst} names an unknown node")
    for n in nodes:
        if n.kind not in ("service", "database"):
            raise ValueError(f"topology node {n.name!r}: kind must be service or database, got {n.kind!r}")
    return Topology(nodes=nodes, edges=edges)


def load_topology(path: Path = TOPOLOGY_FILE) -> Topology:
    return parse_topology(json.loads(Path(path).read_text()))
