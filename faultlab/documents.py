"""Reading the JSON and YAML files users hand us, with one set of error messages.

Every such file (a CI baseline, a scores.json, a queries file, a fault plan, a manifest) fails
the same ways: it is not there, it cannot be read, or its syntax is broken. Each becomes a
:class:`~faultlab.errors.BadInput` that names the file (and the line, where the parser says).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from faultlab.errors import BadInput


def read_document(path: str | Path, label: str | None = None, missing: str = "no such file") -> Any:
    """The parsed contents of ``path``: JSON for ``.json``, YAML otherwise.

    ``label`` starts every error message (default: the path); ``missing`` says what to do
    when the file is not there, e.g. ``"no such file (create it with --update)"``.
    """
    path = Path(path)
    label = label or str(path)
    if not path.is_file():
        raise BadInput(f"{label}: {missing}")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{label}: cannot be read ({exc})") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{label}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"{label}: not valid YAML ({str(exc).splitlines()[0]})") from None
