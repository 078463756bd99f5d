"""The importer registry, the options' text -> value conversion, and the ``FORMAT:PATH`` dataset spec.

Options arrive as text from ``--option KEY=VALUE`` (or as values from Python): numbers
(``interval_s``, ``duration_s``), flags (``fill_gaps``, ``sidecar``: true/false, yes/no, 1/0) and
``order`` (strict/sort) are checked here, so a bad one is BadInput naming the option.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.io.benchmark_csv import import_timeeval, import_tsbad
from faultlab.harness.io.microservice import import_microservice
from faultlab.harness.io.parsing import ORDERS
from faultlab.harness.io.rcaeval import import_rcaeval
from faultlab.harness.io.smd import import_smd
from faultlab.registry import Registry

IMPORTERS: Registry[Callable[..., Dataset]] = Registry("import format")
IMPORTERS.add("timeeval", import_timeeval)
IMPORTERS.add("tsb-ad", import_tsbad)
IMPORTERS.add("smd", import_smd)
IMPORTERS.add("microservice", import_microservice)
IMPORTERS.add("rcaeval", import_rcaeval)
TRUE, FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def _number(key: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadInput(f"import option {key} {value!r} is not a number") from None


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in TRUE + FALSE:
        raise BadInput(f"import option {key} {value!r} is not true or false")
    return text in TRUE


def _order(key: str, value: Any) -> str:
    if value not in ORDERS:
        raise BadInput(f"import option {key} {value!r} is not one of {', '.join(ORDERS)}")
    return str(value)


CONVERT: dict[str, Callable[[str, Any], Any]] = {
    "interval_s": _number, "duration_s": _number, "fill_gaps": _flag, "sidecar": _flag, "order": _order,
}


def options_of(fmt: str) -> list[str]:
    """The keyword options a format takes (``faultlab import --option KEY=VALUE``)."""
    sig = inspect.signature(IMPORTERS.get(fmt))
    return [p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]


def import_dataset(fmt: str, path: str | Path, options: Mapping[str, Any] | None = None) -> Dataset:
    """Read ``path`` in format ``fmt``; BadInput names an unknown format, option or missing path."""
    importer = IMPORTERS.get(fmt)
    options = dict(options or {})
    valid = options_of(fmt)
    unknown = [k for k in options if k not in valid]
    if unknown:
        raise BadInput(f"import format {fmt!r}: unknown option {unknown[0]!r}; valid: {', '.join(valid) or '(none)'}")
    for key, convert in CONVERT.items():
        if key in options and options[key] is not None:
            options[key] = convert(key, options[key])
    if not Path(path).exists():
        raise BadInput(f"{path}: no such file or folder to import as {fmt}")
    return importer(path, **options)


def is_spec(text: str) -> bool:
    """True for ``FORMAT:PATH`` with a known format (a plain path or dataset name is not one)."""
    fmt, sep, rest = str(text).partition(":")
    return bool(sep and rest) and fmt in IMPORTERS


def resolve_spec(text: str) -> Dataset:
    """``FORMAT:PATH`` -> the imported Dataset, on the fly (nothing written)."""
    fmt, _, path = str(text).partition(":")
    return import_dataset(fmt, path)
