"""Windows of metric series as graphs, and the classifier base the graph models share.

TELESTO (seed 001, sec. 2.1, Eq. 1) turns each sliding window of ``w`` steps over ``d``
series into a graph with one node per series: node ``i`` carries the ``w`` values of series
``i``. The edges are "set manually" there: a fully connected graph. :func:`window_batch`
builds that batch for PyTorch Geometric without materialising ``Data`` objects (one
``edge_index`` for the complete graph on ``d`` nodes, offset per window), so a batch of 128
windows costs one tensor copy.

:class:`GraphClassifier` owns what ``telesto``, ``gcn`` and ``gin`` share: the paper's
training setup (Table 2: Adam, lr 1e-3, weight decay 1e-5, cross entropy, 15 epochs, batch
128, Xavier init), min-max scaling fitted on the training windows (sec. 3.2); seeding,
device, the training loop and ``state_dict`` persistence come from
:mod:`faultlab.detectors.torchkit`. The
models are dimension invariant: a window with more (or fewer) series than at fit time is
simply a graph with more (or fewer) nodes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar, Self

import numpy as np
from pydantic import Field

from faultlab.detectors.base import Classifier
from faultlab.detectors.preprocess import evenly_thinned
from faultlab.detectors.torchkit import (
    TensorSet,
    TorchParams,
    TrainHistory,
    fit_module,
    load_module_state,
    module_state,
    resolve_device,
    seeded,
)
from faultlab.errors import BadInput

_TINY = 1e-12


class GraphClassifierParams(TorchParams):
    """The training setup of TELESTO's Table 2, shared by the GCN and GIN baselines (sec. 3.3).

    ``patience`` defaults to ``max_epochs``: the paper trains a fixed 15 epochs. Early stopping
    watches the validation windows the caller passes (the protocol's validation fold), else
    the last ``val_fraction`` of the training windows (0: none, the training loss is watched).
    """

    max_epochs: int = Field(15, ge=1, le=10_000, description="training epochs (Table 2: 15)")
    batch_size: int = Field(128, ge=1, le=65_536, description="graphs per batch (Table 2: 128)")
    lr: float = Field(1e-3, gt=0, le=1.0, description="learning rate (Table 2: 1e-3)")
    weight_decay: float = Field(1e-5, ge=0, le=1.0, description="weight decay (Table 2: 1e-5)")
    patience: int = Field(15, ge=1, description="epochs without validation improvement before stopping")
    val_fraction: float = Field(0.0, ge=0, lt=0.9, description="last share of training windows held out when no validation is given")
    dropout: float = Field(0.5, ge=0, lt=1.0, description="dropout probability (Table 2: 50%)")


def fit_window_scaler(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-series minimum and span over all steps of the training windows (sec. 3.2)."""
    lo = windows.min(axis=(0, 1))
    span = windows.max(axis=(0, 1)) - lo
    return lo, np.where(span > _TINY, span, 1.0)


def scale_windows(windows: np.ndarray, lo: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Min-max scale ``N x w x d`` windows with the fitted limits of the first series.

    Series beyond the ones seen at fit time have no known limits, so each is scaled inside its
    window: minus its minimum, divided by the larger of its range and its mean magnitude. A
    steady KPI (level much above its noise) then stays near 0, as a trained series does
    outside faults, and a series that jumps inside the window spans about [0, 1]. With fewer
    series than at fit time, the first ``d`` limits are used.
    """
    d = windows.shape[2]
    known = min(d, len(lo))
    out = np.empty(windows.shape, dtype=np.float32)
    out[:, :, :known] = (windows[:, :, :known] - lo[:known]) / span[:known]
    if d > known:
        extra = windows[:, :, known:]
        w_lo = extra.min(axis=1, keepdims=True)
        w_span = np.maximum(extra.max(axis=1, keepdims=True) - w_lo, np.abs(extra.mean(axis=1, keepdims=True)))
        out[:, :, known:] = (extra - w_lo) / np.where(w_span > _TINY, w_span, 1.0)
    return out


@lru_cache(maxsize=32)
def _complete_edges(n_nodes: int) -> np.ndarray:
    """``2 x n(n-1)`` edge index of the complete directed graph without self loops."""
    src, dst = np.nonzero(~np.eye(n_nodes, dtype=bool))
    return np.vstack([src, dst]).astype(np.int64)


def window_batch(windows: Any) -> tuple[Any, Any, Any]:
    """``(x, edge_index, batch)`` for a ``N x w x d`` tensor: ``N*d`` nodes with ``w`` features each.

    Node ``g*d + i`` is series ``i`` of window ``g``; every window is a complete graph.
    """
    import torch

    n, w, d = windows.shape
    device = windows.device
    x = windows.transpose(1, 2).reshape(n * d, w)
    base = torch.as_tensor(_complete_edges(d), device=device)
    offsets = (torch.arange(n, dtype=torch.int64, device=device) * d).repeat_interleave(base.shape[1])
    edge_index = base.repeat(1, n) + offsets
    batch = torch.arange(n, dtype=torch.int64, device=device).repeat_interleave(d)
    return x, edge_index, batch


def xavier_init(module: Any) -> None:
    """Xavier-uniform weights (Table 2) for every linear map; biases to zero."""
    import torch

    for sub in module.modules():
        weight = getattr(sub, "weight", None)
        linear = isinstance(sub, torch.nn.Linear) or type(sub).__name__ == "Linear"  # torch or PyG Linear
        if linear and isinstance(weight, torch.nn.Parameter) and weight.dim() == 2:
            torch.nn.init.xavier_uniform_(weight)
            if getattr(sub, "bias", None) is not None:
                torch.nn.init.zeros_(sub.bias)


class GraphClassifier(Classifier):
    """Base of the graph classifiers: scaling, training, prediction and persistence.

    Subclasses build their network in :meth:`_build` (a ``torch.nn.Module`` taking
    ``(x, edge_index, batch)`` and returning ``n_graphs x n_classes`` logits). Training uses
    :func:`faultlab.detectors.torchkit.fit_module` (AdamW: with ``weight_decay`` 1e-5 this is
    the paper's Adam up to the decoupling of the decay), gradient norms clipped at 5.
    """

    dimension_invariant: ClassVar[bool] = True
    #: ``fit`` takes ``validation=(windows, labels)`` for early stopping (the protocol's fold).
    accepts_validation: ClassVar[bool] = True
    Params = GraphClassifierParams
    params: GraphClassifierParams

    scale_lo_: np.ndarray
    scale_span_: np.ndarray
    history_: TrainHistory
    _validation: tuple[np.ndarray, np.ndarray] | None = None

    @abstractmethod
    def _build(self, window_size: int, n_classes: int) -> Any:
        """The untrained network for windows of ``window_size`` steps and ``n_classes`` classes."""

    def fit(self, windows: np.ndarray, labels: Sequence[str], *,
            validation: tuple[np.ndarray, Sequence[str]] | None = None, **fit_args: Any) -> Self:
        """As :meth:`Classifier.fit` (``fit_args``: columns, graph); ``validation`` windows and
        labels drive early stopping."""
        self._validation = None
        if validation is not None:
            val_windows = np.asarray(validation[0], dtype=np.float64)
            val_labels = np.asarray([str(x) for x in validation[1]])
            if val_windows.ndim != 3 or len(val_windows) != len(val_labels):
                raise BadInput(f"classifier {self.name!r}: validation needs N x window x features windows and N labels")
            self._validation = (val_windows, val_labels)
        try:
            return super().fit(windows, labels, **fit_args)
        finally:
            self._validation = None

    # ---- fit / predict ------------------------------------------------------------------
    def _fit(self, windows: np.ndarray, labels: np.ndarray) -> None:
        import torch

        keep = evenly_thinned(len(windows), self.params.max_train_windows)
        windows, labels = windows[keep], labels[keep]
        validation = self._validation
        if validation is None and self.params.val_fraction > 0 and len(windows) >= 4:
            cut = len(windows) - max(1, round(len(windows) * self.params.val_fraction))
            validation = (windows[cut:], labels[cut:])
            windows, labels = windows[:cut], labels[:cut]
        self.scale_lo_, self.scale_span_ = fit_window_scaler(windows)
        device = resolve_device(self.params.device)
        owner = f"classifier {self.name!r}"

        def as_set(w: np.ndarray, y: np.ndarray) -> TensorSet:
            known = {c: i for i, c in enumerate(self.classes_)}
            keep = np.array([str(v) in known for v in y], dtype=bool)  # validation may hold unseen classes
            target = np.array([known[str(v)] for v in y[keep]], dtype=np.int64)
            scaled = scale_windows(w[keep], self.scale_lo_, self.scale_span_)
            return TensorSet((torch.from_numpy(scaled).to(device), torch.from_numpy(target).to(device)))

        loss = torch.nn.CrossEntropyLoss()

        def loss_fn(module: Any, batch: tuple[Any, Any]) -> Any:
            x, edge_index, graph_of = window_batch(batch[0])
            return loss(module(x, edge_index, graph_of), batch[1])

        train_set = as_set(windows, labels)
        val_set = as_set(*validation) if validation is not None else None
        with seeded(self.seed) as generator:
            self.model_ = self._build(self.window_size_, len(self.classes_))
            xavier_init(self.model_)
            self.model_.to(device)
            self.history_ = fit_module(
                self.model_, loss_fn, _NoSingletons(train_set), val_set if val_set is not None and len(val_set) else None,
                self.params, generator, owner,
            )

    def _predict_proba(self, windows: np.ndarray) -> np.ndarray:
        import torch

        scaled = scale_windows(windows, self.scale_lo_, self.scale_span_)
        device = next(self.model_.parameters()).device
        self.model_.eval()
        out = [np.zeros((0, len(self.classes_)))]
        with torch.no_grad():
            for start in range(0, len(scaled), self.params.batch_size):
                chunk = torch.from_numpy(scaled[start : start + self.params.batch_size]).to(device)
                logits = self.model_(*window_batch(chunk))
                out.append(torch.softmax(logits.double(), dim=1).cpu().numpy())
        return np.concatenate(out)

    # ---- persistence --------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "scale_lo_": self.scale_lo_,
            "scale_span_": self.scale_span_,
            "train_loss_": np.asarray(self.history_.train_loss, dtype=np.float64),
            **module_state(self.model_),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.scale_lo_ = np.asarray(state["scale_lo_"], dtype=np.float64)
        self.scale_span_ = np.asarray(state["scale_span_"], dtype=np.float64)
        self.history_ = TrainHistory(train_loss=[float(v) for v in np.asarray(state["train_loss_"])])
        self.model_ = self._build(self.window_size_, len(self.classes_))
        load_module_state(self.model_, state)
        self.model_.to(resolve_device(self.params.device))
        self.model_.eval()


class _NoSingletons:
    """A batch source whose batches never hold a single graph (batch norm needs two)."""

    def __init__(self, source: TensorSet) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def batch(self, index: Any) -> Any:
        if len(index) == 1 and len(self.source) > 1:
            import torch

            index = torch.cat([index, (index + 1) % len(self.source)])
        return self.source.batch(index)
