"""The JSON Schema of scenario files (``faultlab schema``), for editors to complete and check.

It is pydantic's schema of :class:`Scenario`, plus what the models accept through validators
(``faults`` as a bare list, ``target`` as a shorthand for ``targets``) and the registered names
(fault types, load shapes, detectors, classifiers, metrics) as enums, so an editor can offer
them. Registries that cannot be imported are left open (plain strings).
"""

from __future__ import annotations

from typing import Any

from faultlab.harness.scenario.model import Scenario

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _names(kind: str) -> list[str] | None:
    """The registered names of one kind (imported only here: the schema module stays light)."""
    if kind == "faults":
        from faultlab.injectors import FAULTS

        return FAULTS.names() or None
    if kind == "shapes":
        from faultlab.testbed.app.loadgen.shapes import SHAPES

        return sorted(SHAPES)
    if kind in ("detectors", "classifiers"):
        from faultlab import detectors

        registry = detectors.DETECTORS if kind == "detectors" else detectors.CLASSIFIERS
        return registry.names() or None
    if kind == "metrics":
        from faultlab.harness.scoring import METRICS

        return METRICS.names() or None
    return None


def json_schema() -> dict[str, Any]:
    """The scenario format as a JSON Schema (draft 2020-12) dict."""
    schema = Scenario.model_json_schema()
    defs = schema.setdefault("$defs", {})
    schema = {"$schema": SCHEMA_DIALECT, **schema, "title": "Faultlab scenario"}
    schema["properties"]["faults"] = {
        "description": "an explicit list of faults, or {items, generator, allow_overlap}",
        "anyOf": [{"$ref": "#/$defs/Faults"}, {"type": "array", "items": {"$ref": "#/$defs/FaultEntry"}}],
    }
    entry = defs["FaultEntry"]
    entry["properties"]["target"] = {
        "description": "shorthand for targets: [name]",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    entry["required"] = [r for r in entry.get("required", []) if r != "targets"]
    entry["anyOf"] = [{"required": ["targets"]}, {"required": ["target"]}]
    _enum(entry["properties"]["type"], _names("faults"))
    _enum(defs["GeneratorSpec"]["properties"]["types"].get("items", {}), _names("faults"))
    _enum(defs["Load"]["properties"]["shape"], _names("shapes"))
    evaluate = defs["Evaluate"]["properties"]
    _enum(evaluate["metrics"].get("items", {}), _names("metrics"))
    for kind in ("detectors", "classifiers"):
        names = _names(kind)
        if names:
            evaluate[kind]["items"] = {
                "allOf": [{"$ref": "#/$defs/MethodSpec"}, {"properties": {"name": {"enum": names}}}]
            }
    return schema


def _enum(node: dict[str, Any], names: list[str] | None) -> None:
    if names:
        node["enum"] = names
