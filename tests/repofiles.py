"""Import a repository file that is not part of the package (``scripts/``, ``docs/``) as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def import_file(relative: str, name: str) -> ModuleType:
    """Execute ``REPO/relative`` as module ``name`` (registered, as a user's own module would be)."""
    spec = importlib.util.spec_from_file_location(name, REPO / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
