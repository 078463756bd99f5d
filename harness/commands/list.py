"""``faultlab list faults | detectors | classifiers | localizers | metrics | datasets``: what the registries hold."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

#: what -> (module to import, registry attribute); localizers: the function that gathers them (registered
#: localizers plus the detectors that can localize), called when listed
SOURCES = {
    "faults": ("faultlab.injectors", "FAULTS"),
    "detectors": ("faultlab.detectors", "DETECTORS"),
    "classifiers": ("faultlab.detectors", "CLASSIFIERS"),
    "localizers": ("faultlab.detectors.localizers", "localizer_classes"),
    "metrics": ("faultlab.harness.scoring", "METRICS"),
    "datasets": ("faultlab.harness.datasets.index", "DATASETS"),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list registered faults, detectors, classifiers, metrics or datasets")
    parser.add_argument("what", choices=sorted(SOURCES), help="which registry")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {name, description, ...}")
    parser.add_argument("--all", action="store_true",
                        help="detectors: also those that cannot run here (a missing dependency, weights), with the reason")
    parser.set_defaults(func=run)


def load_registry(what: str) -> Any:
    """Import the registry's package only now, so one broken optional dependency is named clearly."""
    module, attribute = SOURCES[what]
    return getattr(importlib.import_module(module), attribute)


def _first_line(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def describe(what: str, name: str, obj: Any) -> dict[str, Any]:
    """One entry: name, one-line description, and what else the kind has to say."""
    if what == "metrics":
        entry = {"name": name, "description": _first_line(obj.fn), "kind": obj.kind,
                 "higher_is_better": obj.higher_is_better}
        if obj.caveat:
            entry["caveat"] = obj.caveat
        if obj.params:
            entry["params"] = dict(obj.params)
        return entry
    if what in ("detectors", "classifiers"):
        params = getattr(obj, "Params", None)
        fields = list(getattr(params, "model_fields", {}) or {})
        return {"name": name, "description": _first_line(obj), "params": fields}
    if what == "faults":
        return {"name": name, "description": getattr(obj, "description", "") or _first_line(obj)}
    if what == "localizers":
        from faultlab.detectors.localizers import localizer_summary

        return {"name": name, "description": localizer_summary(name, obj)}
    return {"name": name, "description": _first_line(obj)}


def entries(what: str) -> list[dict[str, Any]]:
    found = load_registry(what)
    items = found().items() if what == "localizers" else found.items()
    return [describe(what, name, obj) for name, obj in items]


def unavailable(what: str) -> list[dict[str, Any]]:
    """Detectors a module knows of but could not register here: its ``UNAVAILABLE_DETECTORS``
    (name -> reason, e.g. ``faultlab.detectors.tsbad_adapter``), as entries that say why."""
    if what != "detectors":
        return []
    load_registry(what)
    found: dict[str, str] = {}
    for module_name, module in sorted(sys.modules.items()):
        if module_name.startswith("faultlab.detectors.") and isinstance(getattr(module, "UNAVAILABLE_DETECTORS", None), dict):
            found.update(module.UNAVAILABLE_DETECTORS)
    return [{"name": name, "description": f"unavailable: {why}", "params": [], "unavailable": why}
            for name, why in sorted(found.items())]


def run(args: argparse.Namespace) -> int:
    items = entries(args.what) + (unavailable(args.what) if getattr(args, "all", False) else [])
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    width = max((len(e["name"]) for e in items), default=0)
    for e in items:
        extra = ""
        if args.what == "metrics":
            extra = (f"  [{e['kind']}{', ' + e['caveat'] if 'caveat' in e else ''}"
                     f"{', lower is better' if not e['higher_is_better'] else ''}]")
        elif args.what in ("detectors", "classifiers") and e["params"]:
            extra = f"  (params: {', '.join(e['params'])})"
        print(f"{e['name'].ljust(width)}  {e['description']}{extra}")
    return 0
