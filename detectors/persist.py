"""Pickle-free model files: ``model.json`` (names, params, scalars) + ``arrays.npz`` (arrays).

Loading a pickle runs arbitrary code, and a model folder may come from someone else's run, so
fitted state is stored as JSON and NumPy arrays (``allow_pickle=False``). Deep models convert
their ``state_dict`` tensors to arrays and back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from faultlab.errors import BadInput

MODEL_FORMAT_VERSION = 1
MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"


def write_model(path: str | Path, header: dict[str, Any], state: dict[str, Any]) -> Path:
    """Write ``header`` and ``state`` to folder ``path``: arrays to npz, the rest to JSON."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v) for k, v in state.items() if isinstance(v, np.ndarray)}
    scalars = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    for key, arr in arrays.items():
        if arr.dtype == object:
            raise ValueError(f"state array {key!r} has dtype object; store strings as dtype str")
    doc = {"format_version": MODEL_FORMAT_VERSION, **header, "state": scalars}
    (path / MODEL_FILE).write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
    np.savez(path / ARRAYS_FILE, **arrays)
    return path


def read_model(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a folder written by :func:`write_model`: ``(header, state)``."""
    path = Path(path)
    model_file = path / MODEL_FILE
    if not model_file.exists():
        raise BadInput(f"{path}: not a saved model (missing {MODEL_FILE})")
    doc = json.loads(model_file.read_text())
    version = doc.pop("format_version", MODEL_FORMAT_VERSION)
    if version > MODEL_FORMAT_VERSION:
        raise BadInput(f"{model_file}: format_version {version} is newer than {MODEL_FORMAT_VERSION}")
    state = dict(doc.pop("state", {}))
    arrays_file = path / ARRAYS_FILE
    if arrays_file.exists():
        with np.load(arrays_file, allow_pickle=False) as npz:
            state.update({k: npz[k] for k in npz.files})
    return doc, state


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def tensors_to_arrays(state_dict: dict[str, Any], prefix: str = "torch.") -> dict[str, np.ndarray]:
    """A torch ``state_dict`` as npz-ready arrays (keys prefixed), so deep models save like the rest."""
    return {prefix + k: v.detach().cpu().numpy() for k, v in state_dict.items()}


def arrays_to_tensors(state: dict[str, Any], prefix: str = "torch.") -> dict[str, Any]:
    """The inverse of :func:`tensors_to_arrays`: a ``state_dict`` for ``model.load_state_dict``."""
    import torch  # deferred: the classic detectors must not pay torch's import time

    return {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in state.items() if k.startswith(prefix)}
