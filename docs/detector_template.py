"""A complete detector in one file: copy it to ``detectors/<your_name>.py`` and change what differs.

This template is a real, tested detector (``tests/unit/test_detector_template.py`` imports it,
fits, scores, saves, loads and gates it with ``faultlab check``). It shows every piece a method
needs, and how a torch model plugs into Faultlab:

* **Registration**: ``@DETECTORS.register("name")`` above the class. Every module in
  ``detectors/`` is imported on start, so the file is all there is to add; the name is written
  once (the decorator sets ``name``) and shows up in ``faultlab list detectors``.
* **Parameters**: a pydantic ``Params`` class: typed, bounded, validated with an error naming
  the field. Torch methods subclass :class:`~faultlab.detectors.torchkit.TorchParams` (device,
  epochs, batch size, learning rate, early stopping) and add their own.
* **Data**: ``_fit(train)`` sees the fault-free part of a :class:`~faultlab.dataset.Dataset`.
  ``train.per_service()`` gives a ``T x S x M`` tensor with the service and metric orders, and
  ``train.graph.adjacency(services)`` the caller -> callee matrix for graph models;
  ``train.values()`` / ``train.windows(n)`` give ``T x F`` values and ``N x n x F`` windows.
* **Scores**: ``_score(data)`` returns one float per step, higher = more anomalous. The base
  class learns ``threshold_`` from the training scores (99th percentile by default), aligns
  columns, and ``predict`` compares against it.
* **Root causes** (optional): subclass :class:`~faultlab.detectors.base.Localizer` and return
  ranked services and metrics from ``_rank``; the harness scores them over the dataset's
  candidate services.
* **Persistence**: ``_state`` returns arrays (no pickle), ``_set_state`` restores them; the
  base class writes the model folder (``save``/``load``), so a loaded model scores identically.
* **Determinism**: everything random happens inside ``torchkit.seeded(self.seed)``.

The model itself (kept tiny on purpose): each step's per-service metrics are mixed over the
service graph (one propagation with the symmetric, self-looped adjacency), a window of
``window`` steps is encoded to ``hidden`` numbers and decoded back; the score of a window is
its reconstruction error, given to its last step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from faultlab.dataset import Dataset
from faultlab.detectors import torchkit
from faultlab.detectors.base import Detector, Localizer
from faultlab.detectors.preprocess import fit_minmax, window_scores_to_steps
from faultlab.detectors.registry import DETECTORS


class TemplateParams(torchkit.TorchParams):
    window: int = Field(8, ge=2, le=512, description="steps per window")
    hidden: torchkit.Width = Field(8, description="size of the window code")
    max_epochs: int = Field(10, ge=1, le=10_000)


def _build(n_services: int, n_metrics: int, window: int, hidden: int, adjacency: np.ndarray) -> Any:
    """The torch module (built inside the detector so that importing the file stays cheap)."""
    import torch
    from torch import nn

    class GraphWindowAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            mix = torch.as_tensor(adjacency + adjacency.T + np.eye(n_services), dtype=torch.float32)
            self.register_buffer("mix", mix / mix.sum(dim=1, keepdim=True))
            size = window * n_services * n_metrics
            self.encode = nn.Sequential(nn.Linear(size, hidden), nn.Tanh())
            self.decode = nn.Linear(hidden, size)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, window, S*M) -> same
            b = x.shape[0]
            mixed = torch.einsum("ij,btjm->btim", self.mix, x.reshape(b, window, n_services, n_metrics))
            return self.decode(self.encode(mixed.reshape(b, -1))).reshape(x.shape)

    return GraphWindowAE()


@DETECTORS.register("template_graph_ae")
class TemplateGraphAE(Detector, Localizer):
    """Graph-mixed window autoencoder (the README's template; not a method from a paper)."""

    Params = TemplateParams
    params: TemplateParams

    def _fit(self, train: Dataset) -> None:
        tensor, self.services_, self.metrics_ = train.per_service()
        self.adjacency_ = train.graph.adjacency(self.services_)
        flat = tensor.reshape(len(tensor), -1)
        self.scaler_ = fit_minmax(flat)
        p = self.params
        device = torchkit.resolve_device(p.device)
        with torchkit.seeded(self.seed) as generator:
            self.module_ = _build(len(self.services_), len(self.metrics_), p.window, p.hidden, self.adjacency_).to(device)
            fit_set, val_set = torchkit.train_val_windows(self.scaler_.transform(flat), p.window, p.val_fraction,
                                                          device, f"detector {self.name!r}", p.max_train_windows)
            torchkit.fit_module(self.module_, _loss, fit_set, val_set, p, generator, f"detector {self.name!r}")

    def _errors(self, data: Dataset) -> np.ndarray:
        """Squared reconstruction error per window, service and metric: ``N x S x M``."""
        import torch

        tensor, services, _ = data.per_service(self.metrics_)
        order = [services.index(s) for s in self.services_]
        flat = self.scaler_.transform(tensor[:, order, :].reshape(len(tensor), -1))
        device = next(self.module_.parameters()).device
        windows = torchkit.window_set(flat, self.params.window, device)
        out = []
        with torch.no_grad():
            for batch in windows.all(self.params.batch_size):
                err = (self.module_(batch) - batch)[:, -1, :] ** 2  # the window's last step
                out.append(torchkit.to_numpy(err))
        return np.concatenate(out).reshape(-1, len(self.services_), len(self.metrics_))

    def _score(self, data: Dataset) -> np.ndarray:
        per_window = self._errors(data).mean(axis=(1, 2))
        return window_scores_to_steps(per_window, self.params.window, len(data.metrics))

    def _rank(self, data: Dataset, start: int, end: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        errors = self._errors(data)
        lo, hi = max(0, start - self.params.window + 1), max(1, end - self.params.window + 1)
        part = errors[lo:hi].mean(axis=0)  # S x M over the windows that end in the segment
        services = sorted(zip(self.services_, part.sum(axis=1).tolist()), key=lambda x: -x[1])
        cols = data.columns.set_index(["service", "metric"])["name"]
        metrics = [(str(cols.get((s, m), f"{s}:{m}")), float(part[i, j]))
                   for i, s in enumerate(self.services_) for j, m in enumerate(self.metrics_)]
        return services, sorted(metrics, key=lambda x: -x[1])

    def _state(self) -> dict[str, Any]:
        return {**torchkit.module_state(self.module_), **torchkit.scaler_state(self.scaler_),
                "services_": np.array(self.services_, dtype=str), "metrics_": np.array(self.metrics_, dtype=str),
                "adjacency_": self.adjacency_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.services_ = [str(s) for s in state["services_"]]
        self.metrics_ = [str(m) for m in state["metrics_"]]
        self.adjacency_ = np.asarray(state["adjacency_"])
        self.scaler_ = torchkit.scaler_from_state(state)
        p = self.params
        module = _build(len(self.services_), len(self.metrics_), p.window, p.hidden, self.adjacency_)
        self.module_ = torchkit.load_module_state(module.to(torchkit.resolve_device(p.device)), state)


def _loss(module: Any, batch: Any) -> Any:
    return ((module(batch) - batch) ** 2).mean()
