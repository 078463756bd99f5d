"""PyOD's detectors (Zhao et al., JMLR 2019; PyOD 2, 2024) through Faultlab's Detector interface.

Each supported PyOD class is registered as ``pyod:<Class>`` (``pyod:ECOD``, ``pyod:LOF``,
``pyod:AutoEncoder``, ...) when PyOD is installed (``pip install 'faultlab[pyod]'``); without
it they are not registered, and :func:`require_pyod` says how to get them. A sample is one time
step of scaled metrics (or, with ``window > 1``, the flattened last ``window`` steps, scored at
the window's last step). The score is PyOD's ``decision_function`` (higher = more anomalous);
the threshold is Faultlab's (a quantile of the training scores), not PyOD's ``threshold_``.

Parameters: the adapter's own (``window``, ``scaler``, ``contamination``,
``threshold_quantile``) plus the PyOD constructor arguments listed in :data:`SUPPORTED`, typed
and bounded. The seed goes to PyOD's ``random_state`` where the class has one (and to torch for
the deep models); the device follows ``device`` (``auto``: a GPU when present, else the CPU).

Saving never pickles the PyOD model: the training matrix is stored and loading refits it with
the same parameters and seed, which rebuilds the same model on the same PyOD version and
machine (deep models: on the CPU). Note that PyOD's ECOD and COPOD score a batch against the
training ECDFs *and the batch itself*, so their score of a step depends on the batch scored: on
the board they see the test data (info row ``sees_test_data`` = 1, as for TSB-AD's unsupervised
models), and live they score the training data plus the newest step, the causal form.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from typing import Any, Literal

import numpy as np
from pydantic import Field, create_model

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector
from faultlab.detectors.params import Params
from faultlab.detectors.preprocess import (
    fit_scaler,
    window_scores_to_steps,
    windows_or_fail,
)
from faultlab.detectors.registry import DETECTORS
from faultlab.detectors.torchkit import resolve_device
from faultlab.errors import BadInput

INSTALL_HINT = "pip install 'faultlab[pyod]' (or pip install pyod)"

#: PyOD classes whose ``decision_function`` re-estimates on the scored batch (they see the test data).
BATCH_DEPENDENT = frozenset({"ECOD", "COPOD"})


class PyODCommon(Params):
    """What every ``pyod:*`` detector takes besides the PyOD class's own arguments."""

    window: int = Field(1, ge=1, le=500, description="steps per sample (flattened)")
    scaler: Literal["robust", "minmax", "none"] = "robust"
    contamination: float | None = Field(None, gt=0, le=0.5, description="expected anomalous share; also PyOD's")
    threshold_quantile: float = Field(0.99, gt=0, le=1, description="used when contamination is not set")


def _f(annotation: Any, default: Any, **bounds: Any) -> tuple[Any, Any]:
    return (annotation, Field(default, **bounds))


#: PyOD class -> (module, its constructor arguments offered here, with types, defaults and bounds).
SUPPORTED: dict[str, tuple[str, dict[str, tuple[Any, Any]]]] = {
    "ECOD": ("pyod.models.ecod", {}),
    "COPOD": ("pyod.models.copod", {}),
    "HBOS": ("pyod.models.hbos", {"n_bins": _f(int, 10, ge=2, le=1000), "alpha": _f(float, 0.1, gt=0, lt=1),
                                  "tol": _f(float, 0.5, gt=0, lt=1)}),
    "PCA": ("pyod.models.pca", {"n_components": _f(int | None, None, ge=1), "whiten": _f(bool, False)}),
    "LOF": ("pyod.models.lof", {"n_neighbors": _f(int, 20, ge=1, le=1000), "metric": _f(str, "minkowski"),
                                "p": _f(int, 2, ge=1)}),
    "KNN": ("pyod.models.knn", {"n_neighbors": _f(int, 5, ge=1, le=1000),
                                "method": _f(Literal["largest", "mean", "median"], "largest")}),
    "IForest": ("pyod.models.iforest", {"n_estimators": _f(int, 100, ge=1, le=5000),
                                        "max_features": _f(float, 1.0, gt=0, le=1)}),
    "AutoEncoder": ("pyod.models.auto_encoder", {
        "hidden_neuron_list": _f(list[int], [64, 32], min_length=1), "epoch_num": _f(int, 10, ge=1, le=1000),
        "batch_size": _f(int, 32, ge=1), "lr": _f(float, 1e-3, gt=0), "dropout_rate": _f(float, 0.2, ge=0, lt=1),
        "batch_norm": _f(bool, True), "device": _f(Literal["auto", "cpu", "cuda"], "auto")}),
}


def pyod_available() -> bool:
    return importlib.util.find_spec("pyod") is not None


def require_pyod(owner: str) -> None:
    """BadInput with the install command when PyOD is missing."""
    if not pyod_available():
        raise BadInput(f"{owner} needs PyOD, which is not installed: {INSTALL_HINT}")


class PyODDetector(Detector):
    """Base of the ``pyod:*`` detectors: scale, window, fit a PyOD model, score with it."""

    pyod_class: str = ""
    params: Any

    model_: Any
    train_values_: np.ndarray

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        require_pyod(f"detector {self.name!r}")
        super().__init__(seed=seed, **params)

    def _pyod_kwargs(self) -> dict[str, Any]:
        own = set(PyODCommon.model_fields)
        kwargs = {k: v for k, v in self.params.model_dump().items() if k not in own}
        if self.params.contamination is not None:
            kwargs["contamination"] = self.params.contamination
        accepted = inspect.signature(_pyod_class(self.pyod_class)).parameters
        if "random_state" in accepted:
            kwargs["random_state"] = self.seed
        if "device" in kwargs:
            kwargs["device"] = str(resolve_device(kwargs["device"]))  # "auto" -> cuda when present, else cpu
        if "verbose" in accepted:
            kwargs["verbose"] = 0
        if "n_jobs" in accepted:
            kwargs["n_jobs"] = 1
        return kwargs

    @property
    def info_(self) -> dict[str, float]:
        """The board's info row: 1 when a step's score depends on the rest of the batch scored."""
        return {"sees_test_data": float(self.pyod_class in BATCH_DEPENDENT)}

    def _fit(self, train: Dataset) -> None:
        self._fit_values(self.matrix(train))

    def _fit_values(self, values: np.ndarray) -> None:
        self.train_values_ = values.astype(np.float64)
        self.scaler_ = None if self.params.scaler == "none" else fit_scaler(self.params.scaler, values)
        klass = _pyod_class(self.pyod_class)
        samples = self._samples(values)
        kwargs = self._pyod_kwargs()
        if self.pyod_class in ("LOF", "KNN") and kwargs["n_neighbors"] >= len(samples):
            raise BadInput(f"detector {self.name!r}: n_neighbors={kwargs['n_neighbors']} needs more than {len(samples)} training samples")
        if "batch_size" in kwargs:
            # PyOD's deep models drop the last partial batch: fewer samples than a batch would train nothing.
            kwargs["batch_size"] = min(kwargs["batch_size"], len(samples))
        if kwargs.get("device") is not None:
            import torch

            torch.manual_seed(self.seed)
        self.model_ = klass(**kwargs).fit(samples)

    def _samples(self, values: np.ndarray) -> np.ndarray:
        scaled = values if self.scaler_ is None else self.scaler_.transform(values)
        windows = windows_or_fail(scaled, self.params.window, f"detector {self.name!r}")
        return windows.reshape(windows.shape[0], -1)

    def _score(self, data: Dataset) -> np.ndarray:
        values = self.matrix(data)
        window_scores = np.asarray(self.model_.decision_function(self._samples(values)), dtype=np.float64)
        return window_scores_to_steps(window_scores, self.params.window, len(values))

    def _state(self) -> dict[str, Any]:
        return {"train_values_": self.train_values_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._fit_values(np.asarray(state["train_values_"], dtype=np.float64))


def _pyod_class(name: str) -> type:
    module, _ = SUPPORTED[name]
    return getattr(importlib.import_module(module), name)



def _make(pyod_class: str) -> type[PyODDetector]:
    module, fields = SUPPORTED[pyod_class]
    params = create_model(f"PyOD{pyod_class}Params", __base__=PyODCommon, **fields)
    doc = f"PyOD's {pyod_class} ({module}) on scaled metrics, seeded, refitted on load."
    return type(f"PyOD{pyod_class}", (PyODDetector,), {"Params": params, "pyod_class": pyod_class, "family": "pyod", "__doc__": doc})


if pyod_available():
    for _name in SUPPORTED:
        DETECTORS.add(f"pyod:{_name}", _make(_name))
