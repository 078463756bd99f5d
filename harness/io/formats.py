"""The importer registry and the ``FORMAT:PATH`` dataset spec (``--dataset timeeval:data.csv``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from faultlab.harness.io.benchmark_csv import import_timeeval, import_tsbad
from faultlab.harness.io.microservice import import_microservice
from faultlab.harness.io.smd import import_smd

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.registry import Registry

IMPORTERS: Registry[Callable[..., Dataset]] = Registry("import format")
IMPORTERS.add("timeeval", import_timeeval)
IMPORTERS.add("tsb-ad", import_tsbad)
IMPORTERS.add("smd", import_smd)
IMPORTERS.add("microservice", import_microservice)


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
    if "interval_s" in options:
        try:
            options["interval_s"] = float(options["interval_s"])
        except (TypeError, ValueError):
            raise BadInput(f"import option interval_s {options['interval_s']!r} is not a number") from None
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
