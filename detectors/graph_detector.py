"""What the graph detectors share: per-(service, metric) errors -> step scores and root-cause rankings.

``gnn_lstm_vae`` (reconstruction error) and ``dcrnn`` (forecast error) both produce, for each
time step, a squared error per (service, metric) pair on the scaled ``T x S x M`` tensor of a
:class:`~faultlab.detectors.graph_layout.GraphLayout` (:meth:`GraphErrorDetector.squared_errors`).
This base class turns those errors into detector output the same way for both:

- **Step score** (seed 000 Sec. 3.2 Eq. 5, ``L = ||x_t - x^_t||^2``; seed 002: the deviation
  of the actual state from the forecast): ``score_reduce="mean"``, the mean squared error over
  all present pairs (every series counts once; the sum's order); ``"max_service"``, the largest
  per-service mean (an addition: sharper for a fault confined to one service among many).
- **Normalised errors.** Each pair's error divided by its mean error on the fault-free
  training data (floored at ``error_floor``): "3" means "three times its normal error" on
  every series, so a pair that is always hard to model does not dominate.
  :meth:`GraphErrorDetector.pair_errors` gives them. The root-cause ranking uses them;
  the detection score does only under ``normalise_scores`` (an addition the papers lack, off
  by default: on the recorded data it keeps VUS-PR but raises the fault-free alarm rate at
  the 99th-percentile threshold, see ``benchmarks/graph_input.py``).
- **Root cause** (:meth:`_rank`): over the segment, each candidate service's mean normalised
  error over its present metrics, and every candidate ``service:metric`` column's (seed 000
  Sec. 4.6: "the service that deviates most from normal behaviour", with each feature's
  contribution normalised before the analysis; seed 002 is silent on root cause).

The parameters that choose the input (``scaling``, ``clip``, ``drop_constant``) are described
in :mod:`faultlab.detectors.graph_layout`; the defaults are the input the papers describe.

Errors of the last scored dataset are cached (keyed by a hash of its values), so localising
many segments of one dataset runs the network once.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from typing import Any, Literal

import numpy as np
from pydantic import Field

from faultlab.dataset import Dataset
from faultlab.detectors import torchkit
from faultlab.detectors.base import Detector, Localizer
from faultlab.detectors.graph_layout import EdgeWeight, GraphLayout, Scaling
from faultlab.detectors.torchkit import TorchParams, resolve_device
from faultlab.errors import BadInput

#: What a model saved before these parameters existed was fitted with (its clip and service embedding are in its params).
_LEGACY = {"scaling": "column_robust", "drop_constant": True, "normalise_scores": True}


class GraphParams(TorchParams):
    """Parameters shared by the graph detectors (on top of the torch training ones).

    The defaults are the input the seed papers describe (:mod:`faultlab.detectors.graph_layout`);
    ``scaling="column_robust"``, ``clip=10``, ``drop_constant=True`` and ``normalise_scores=True``
    together give back the input layer and score these detectors had before (additions the
    papers lack, kept as options).
    """

    scaling: Scaling = Field("metric", description="metric: one z-score per metric over all services (papers); "
                             "column_robust: median/MAD per column (addition)")
    clip: float | None = Field(None, gt=0, description="clip scaled values to +-clip (addition; None = off)")
    drop_constant: bool = Field(False, description="switch off columns constant in training (addition)")
    normalise_scores: bool = Field(False, description="detection score from each pair's error over its mean "
                                   "fault-free error (addition; rankings always use them)")
    error_floor: float = Field(0.01, gt=0, description="smallest per-pair training error used to normalise")
    score_reduce: Literal["mean", "max_service"] = Field("mean", description="how pair errors become a step score")
    max_train_windows: int | None = Field(2000, ge=1, description="evenly thinned cap on training windows per epoch")


class GraphErrorDetector(Detector, Localizer):
    """Base of the graph detectors: subclasses train a network and return per-pair squared errors."""

    Params = GraphParams
    params: GraphParams

    layout_: GraphLayout
    pair_scale_: np.ndarray  # S x M mean training error per pair
    net_: Any  # the trained network (set by _train_network; saved and loaded here)

    # ---- what subclasses implement ------------------------------------------------------
    @abstractmethod
    def _network(self, n_services: int, n_metrics: int, edge_index: Any, edge_weight: Any) -> Any:
        """The untrained ``nn.Module`` for this layout (``edge_index``: a ``2 x E`` long tensor;
        ``edge_weight``: ``E`` floats, or None when the edges are unweighted)."""

    def _edge_weighting(self) -> EdgeWeight:
        """How the layout weighs the edges (``"none"``: unweighted; ``dcrnn`` weighs by traffic)."""
        return "none"

    @property
    @abstractmethod
    def _train_window(self) -> int:
        """Steps per training window."""

    @property
    @abstractmethod
    def _score_window(self) -> int:
        """Steps per scoring window; its last step is the one judged."""

    @abstractmethod
    def _loss(self, net: Any, batch: Any) -> Any:
        """The training loss of one ``B x train_window x S x M`` batch."""

    @abstractmethod
    def _last_step_errors(self, batch: Any) -> Any:
        """``B x S x M`` squared errors of the last step of each ``B x score_window x S x M`` window."""

    # ---- training and raw errors, the same loop for every graph detector --------------------
    def _train_network(self, x: np.ndarray) -> None:
        """Build and train the network on the scaled fault-free ``T x S x M`` tensor into ``self.net_``."""
        p, owner = self.params, f"detector {self.name!r}"
        with torchkit.seeded(self.seed) as generator:
            self.net_ = self._build()
            train, val = torchkit.train_val_windows(x, self._train_window, p.val_fraction, self._device, owner,
                                                    p.max_train_windows)
            self.history_ = torchkit.fit_module(self.net_, self._loss, train, val, p, generator, owner)

    def _raw_errors(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        """``(errors, first)``: ``N x S x M`` squared errors for steps ``first .. first+N-1`` of ``x``."""
        import torch

        out = []
        self.net_.eval()
        with torch.no_grad():
            for batch in torchkit.window_set(x, self._score_window, self._device).all(256):
                out.append(torchkit.to_numpy(self._last_step_errors(batch)))
        errors = np.concatenate(out) if out else np.empty((0, *x.shape[1:]))
        return errors, self._score_window - 1

    def _build(self) -> Any:
        """The network on the chosen device, with the mask of the (service, metric) pairs present."""
        import torch

        layout = self.layout_
        self._device = resolve_device(self.params.device)
        weight = torch.from_numpy(layout.edge_weight.astype(np.float32)) if layout.weighted else None
        net = self._network(len(layout.services), len(layout.metrics), torch.from_numpy(layout.edge_index), weight)
        self._present = torch.from_numpy(layout.present.astype(np.float32)).to(self._device)
        return net.to(self._device)

    # ---- Detector -----------------------------------------------------------------------
    def _fit(self, train: Dataset) -> np.ndarray:
        self._cache: tuple[str, np.ndarray] | None = None
        p = self.params
        self.layout_ = GraphLayout.fit(train, self.columns_, scaling=p.scaling, clip=p.clip,
                                       drop_constant=p.drop_constant, edge_weight=self._edge_weighting())
        values = self.matrix(train)
        x = self.layout_.tensor(values)
        self._train_network(x)
        raw, first = self._raw_errors(x)
        self.pair_scale_ = np.maximum(raw.mean(axis=0), self.params.error_floor)
        return self._step_scores(self._for_scores(self._padded(raw, first)))  # the training scores, without a second pass

    @property
    def notes_(self) -> list[str]:
        """What the fitted model could not do as its paper says, for this dataset (e.g. unweighted edges)."""
        return list(self.layout_.notes)

    def align(self, data: Dataset) -> Dataset:
        if hasattr(self, "layout_"):
            self.layout_.check_services(data, self.name)
        return super().align(data)

    def squared_errors(self, data: Dataset) -> np.ndarray:
        """``T x S x M`` squared errors of ``data`` (aligned) in scaled units; 0 on absent pairs.

        Steps before the first one the network can judge (the first window) take the first
        judged step's errors, as :func:`~faultlab.detectors.preprocess.window_scores_to_steps` does.
        """
        values = self.matrix(data)
        key = _key(values)
        cache = getattr(self, "_cache", None)
        if cache is not None and cache[0] == key:
            return cache[1]
        x = self.layout_.tensor(values)
        # Data shorter than one window (a from-alarm cut that ends a few steps into a test part
        # that starts with a fault): the first step repeated in front fills the window, as the
        # first window's steps take the first judged step's errors below; the filler is dropped.
        fill = max(self._score_window - len(x), 0) if len(x) else 0
        if fill:
            x = np.concatenate([np.repeat(x[:1], fill, axis=0), x])
        raw, first = self._raw_errors(x)
        if len(raw) == 0:
            raise BadInput(f"detector {self.name!r}: dataset {data.name!r} has {len(values)} steps, too few for one window")
        out = self._padded(raw, first)[fill:]
        self._cache = (key, out)
        return out

    def pair_errors(self, data: Dataset) -> np.ndarray:
        """``T x S x M`` normalised errors of ``data`` (each pair's error over its mean fault-free error); 0 on absent pairs."""
        return self._normalised(self.squared_errors(data))

    def _padded(self, raw: np.ndarray, first: int) -> np.ndarray:
        """``raw`` with absent pairs zeroed and the first judged step repeated ``first`` times in front."""
        out = np.where(self.layout_.present, raw, 0.0)
        return np.concatenate([np.repeat(out[:1], first, axis=0), out]) if first else out

    def _normalised(self, errors: np.ndarray) -> np.ndarray:
        return errors / self.pair_scale_

    def _for_scores(self, errors: np.ndarray) -> np.ndarray:
        """The errors the detection score reduces: plain, or normalised under ``normalise_scores``."""
        return self._normalised(errors) if self.params.normalise_scores else errors

    def _score(self, data: Dataset) -> np.ndarray:
        return self._step_scores(self._for_scores(self.squared_errors(data)))

    def _step_scores(self, errors: np.ndarray) -> np.ndarray:
        """``score_reduce`` of the ``T x S x M`` pair errors: one score per step."""
        present = self.layout_.present
        if self.params.score_reduce == "mean":
            return errors.sum(axis=(1, 2)) / max(int(present.sum()), 1)
        per_service = errors.sum(axis=2) / np.maximum(present.sum(axis=1), 1)
        return per_service.max(axis=1)

    def _rank(self, data: Dataset, start: int, end: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        return self.layout_.rank(self.pair_errors(data)[start:end].mean(axis=0))

    # ---- persistence --------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {**self.layout_.to_state(), "pair_scale_": self.pair_scale_, **torchkit.module_state(self.net_)}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._cache = None
        if "layout.scaling" not in state:  # saved before the papers' input became the default: keep its input and score
            legacy = {**_LEGACY, "edge_weight": "none"} if "edge_weight" in type(self.params).model_fields else _LEGACY
            self.params = self.params.model_copy(update=legacy)
        self.layout_ = GraphLayout.from_state(state, self.columns_)
        self.pair_scale_ = np.asarray(state["pair_scale_"], dtype=np.float64)
        self.net_ = torchkit.load_module_state(self._build(), state)


def _key(values: np.ndarray) -> str:
    """Identity of a value matrix for the error cache (content, not object identity)."""
    return hashlib.blake2b(np.ascontiguousarray(values).tobytes(), digest_size=16).hexdigest() + str(values.shape)
