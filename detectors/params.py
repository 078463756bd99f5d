"""Typed, validated constructor parameters for detectors and classifiers.

Scenario files and the CLI hand parameters over as plain mappings; each method declares a
pydantic model (``Params``) that types them, gives defaults and bounds, and forbids unknown
names. Validation errors become one :class:`BadInput` sentence that names the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from faultlab.errors import BadInput


class Params(BaseModel):
    """Base of every method's parameter model: frozen, unknown names rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def build_params(model: type[Params], given: Mapping[str, Any], owner: str, shared: tuple[str, ...] = ()) -> Params:
    """Validate ``given`` against ``model``; raise BadInput naming the offending parameter.

    ``shared`` names parameters every method of the kind accepts outside ``model`` (listed as valid).
    """
    try:
        return model(**dict(given))
    except ValidationError as exc:
        raise BadInput(_describe(exc, model, owner, shared)) from None


def check_seed(seed: Any, owner: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BadInput(f"{owner}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _describe(exc: ValidationError, model: type[Params], owner: str, shared: tuple[str, ...] = ()) -> str:
    err = exc.errors()[0]
    name = ".".join(str(p) for p in err.get("loc", ())) or "?"
    valid = ", ".join([*model.model_fields, *shared]) or "(none)"
    if err.get("type") == "extra_forbidden":
        return f"{owner}: unknown parameter {name!r}; valid: {valid}"
    return f"{owner}: parameter {name!r} {err.get('msg', 'is invalid').lower()} (got {err.get('input')!r})"
