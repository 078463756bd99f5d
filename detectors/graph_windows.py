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

**Epochs and batch size, scaled to the data** (:func:`training_schedule`). Table 2's 15 epochs of
batches of 128 assume the paper's data: per service node, 5 anomaly types x 3 training
injections (the 3/1/1 split) x about 4.5 minutes at 2 Hz, cut into windows of 20 at stride 1,
about 7,815 training graphs, so 62 batches per epoch and about 930 gradient steps in all
(:data:`PAPER_STEPS`). A recording with a few dozen training graphs would get 15 steps from the
same setting. So, unless given: the batch keeps about the paper's 62 batches per epoch where the
data allows (``N / 62`` graphs rounded up to a power of two, between 16 and 128: the paper's own
data gives its 128), and the epochs are as many as it takes to reach the paper's gradient steps,
never fewer than its 15:
``epochs = max(15, ceil(930 / ceil(N / batch)))``. Early stopping then watches the validation
windows (the protocol's validation fold, else the chronologically last ``val_fraction`` of the
training windows) by error rate, ties broken by loss (the paper saw the validation loss
diverge while validation accuracy still rose, sec. 3.3), with a patience of a tenth of the
epochs (at least 20). ``history_`` records what happened.

**Physical limits** (sec. 3.2: "The limits of most KPIs are well-known (e.g. number of CPU cores
...)"): when ``fit`` is given ``limits``
(:func:`faultlab.detectors.preprocess.physical_limits`), CPU, memory and network byte series are
divided by their physical limit read from each window (the service's CPU quota or memory limit,
else the host's cores or memory; network bytes by the link speed); the other series keep
min-max limits from the training windows, as the paper does for series without known limits.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar, Literal, Self

import numpy as np
from pydantic import Field

from faultlab.detectors.base import Classifier
from faultlab.detectors.preprocess import PhysicalLimits, evenly_thinned
from faultlab.detectors.torchkit import (
    TensorSet,
    TorchParams,
    TrainHistory,
    evaluate_loss,
    fit_module,
    load_module_state,
    module_state,
    resolve_device,
    seeded,
)
from faultlab.errors import BadInput

_TINY = 1e-12

#: Table 2's training setup and the data it was set for (see the module docstring).
PAPER_EPOCHS, PAPER_BATCH = 15, 128
PAPER_TRAIN_GRAPHS = 5 * 3 * 521  # 5 types x 3 training injections x (4.5 min x 2 Hz - 19) windows
PAPER_STEPS = PAPER_EPOCHS * math.ceil(PAPER_TRAIN_GRAPHS / PAPER_BATCH)  # 15 x 62 = 930 gradient steps
#: Smallest scaled batch: batch norm (GIN, TELESTO) needs a few graphs per batch to mean anything.
MIN_BATCH = 16
#: Shortest scaled patience (epochs without a better validation error or loss).
MIN_PATIENCE = 20


class GraphClassifierParams(TorchParams):
    """The training setup of TELESTO's Table 2, shared by the GCN and GIN baselines (sec. 3.3).

    ``max_epochs``, ``batch_size`` and ``patience`` left at None follow :func:`training_schedule`
    (the paper's gradient steps on the data at hand); given, they are used as they are. Early
    stopping watches the validation windows the caller passes (the protocol's validation fold),
    else the chronologically last ``val_fraction`` of the training windows (0: none, the training
    loss is watched).
    """

    max_epochs: int | None = Field(None, ge=1, le=10_000,
                                   description="training epochs; None: Table 2's 15, scaled up to the paper's gradient steps")
    batch_size: int | None = Field(None, ge=1, le=65_536,
                                   description="graphs per batch; None: Table 2's 128, scaled down to 62 batches per epoch")
    lr: float = Field(1e-3, gt=0, le=1.0, description="learning rate (Table 2: 1e-3)")
    weight_decay: float = Field(1e-5, ge=0, le=1.0, description="weight decay (Table 2: 1e-5)")
    patience: int | None = Field(None, ge=1,
                                 description="epochs without validation improvement before stopping; None: a tenth of the epochs, >= 20")
    val_fraction: float = Field(0.2, ge=0, lt=0.9, description="last share of training windows held out when no validation is given")
    dropout: float = Field(0.5, ge=0, lt=1.0, description="dropout probability (Table 2: 50%)")
    monitor: Literal["error", "loss"] = Field("error", description="early stopping on the validation error (ties: loss), or on the loss")


def training_schedule(n_graphs: int, params: GraphClassifierParams) -> tuple[int, int, int]:
    """``(epochs, batch size, patience)`` for ``n_graphs`` training graphs (module docstring's rule).

    Given parameters win; the rest keep about the paper's 62 batches per epoch where the data allows
    (a power of two from 16 to 128) and at least its ~930 gradient steps (:data:`PAPER_STEPS`) and
    15 epochs. ``N`` = 35 (an old 3/1/1 split): 310 epochs of 16; 7,815 (the paper's): 15 of 128.
    """
    per_epoch = math.ceil(PAPER_TRAIN_GRAPHS / PAPER_BATCH)
    wanted = max(n_graphs / per_epoch, 1.0)  # graphs per batch for the paper's batches per epoch
    batch = params.batch_size or min(PAPER_BATCH, max(MIN_BATCH, 2 ** math.ceil(math.log2(wanted))))
    steps = max(1, math.ceil(n_graphs / batch))
    epochs = params.max_epochs or min(10_000, max(PAPER_EPOCHS, math.ceil(PAPER_STEPS / steps)))
    patience = params.patience or max(MIN_PATIENCE, epochs // 10)
    return epochs, batch, patience


def fit_window_scaler(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-series minimum and span over all steps of the training windows (sec. 3.2)."""
    lo = windows.min(axis=(0, 1))
    span = windows.max(axis=(0, 1)) - lo
    return lo, np.where(span > _TINY, span, 1.0)


def scale_windows(windows: np.ndarray, lo: np.ndarray, span: np.ndarray, limits: PhysicalLimits | None = None) -> np.ndarray:
    """Min-max scale ``N x w x d`` windows with the fitted limits of the first series.

    With ``limits``, a series with a physical limit in a window is divided by it instead
    (``x / limit``: 0 at rest, 1 at the limit); the others keep the training ``lo`` and ``span``.

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
    if limits is not None and known:
        limit = limits.per_window(windows[:, :, :known])  # N x known, NaN: no physical limit
        physical = np.isfinite(limit)
        if physical.any():
            safe = np.where(physical, limit, 1.0)[:, None, :]
            out[:, :, :known] = np.where(physical[:, None, :], windows[:, :, :known] / safe, out[:, :, :known])
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
    #: ``fit`` takes ``limits=`` (:func:`~faultlab.detectors.preprocess.physical_limits`) to scale by physical limits.
    accepts_limits: ClassVar[bool] = True
    Params = GraphClassifierParams
    params: GraphClassifierParams

    scale_lo_: np.ndarray
    scale_span_: np.ndarray
    limits_: PhysicalLimits | None = None
    history_: TrainHistory
    _validation: tuple[np.ndarray, np.ndarray] | None = None

    @abstractmethod
    def _build(self, window_size: int, n_classes: int) -> Any:
        """The untrained network for windows of ``window_size`` steps and ``n_classes`` classes."""

    def fit(self, windows: np.ndarray, labels: Sequence[str], *,
            validation: tuple[np.ndarray, Sequence[str]] | None = None, limits: PhysicalLimits | None = None,
            **fit_args: Any) -> Self:
        """As :meth:`Classifier.fit` (``fit_args``: columns, graph); ``validation`` windows and
        labels drive early stopping; ``limits`` (one entry per column) scale by physical limits."""
        self._validation = None
        if limits is not None and len(limits.source) != np.asarray(windows).shape[-1]:
            raise BadInput(f"classifier {self.name!r}: limits for {len(limits.source)} columns, "
                           f"windows have {np.asarray(windows).shape[-1]}")
        self.limits_ = limits
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
        # no validation fold given: the chronologically last windows (callers pass them in time order)
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
            scaled = scale_windows(w[keep], self.scale_lo_, self.scale_span_, self.limits_)
            return TensorSet((torch.from_numpy(scaled).to(device), torch.from_numpy(target).to(device)))

        loss = torch.nn.CrossEntropyLoss()

        def loss_fn(module: Any, batch: tuple[Any, Any]) -> Any:
            x, edge_index, graph_of = window_batch(batch[0])
            return loss(module(x, edge_index, graph_of), batch[1])

        epochs, batch_size, patience = training_schedule(len(windows), self.params)
        schedule = self.params.model_copy(update={"max_epochs": epochs, "batch_size": batch_size, "patience": patience})

        def error_then_loss(module: Any, source: TensorSet) -> tuple[float, float]:
            wrong, total = 0.0, 0.0
            for lo in range(0, len(source), batch_size):
                x, y = source.batch(torch.arange(lo, min(lo + batch_size, len(source))))
                logits = module(*window_batch(x))
                wrong += float((logits.argmax(dim=1) != y).sum())
                total += len(y)
            return wrong / max(total, 1.0), evaluate_loss(module, loss_fn, source, batch_size)

        train_set = as_set(windows, labels)
        val_set = as_set(*validation) if validation is not None else None
        with seeded(self.seed) as generator:
            self.model_ = self._build(self.window_size_, len(self.classes_))
            xavier_init(self.model_)
            self.model_.to(device)
            self.history_ = fit_module(
                self.model_, loss_fn, _NoSingletons(train_set), val_set if val_set is not None and len(val_set) else None,
                schedule, generator, owner, monitor=error_then_loss if self.params.monitor == "error" else None,
            )

    def _predict_proba(self, windows: np.ndarray) -> np.ndarray:
        import torch

        scaled = scale_windows(windows, self.scale_lo_, self.scale_span_, self.limits_)
        device = next(self.model_.parameters()).device
        self.model_.eval()
        out = [np.zeros((0, len(self.classes_)))]
        step = self.params.batch_size or PAPER_BATCH
        with torch.no_grad():
            for start in range(0, len(scaled), step):
                chunk = torch.from_numpy(scaled[start : start + step]).to(device)
                logits = self.model_(*window_batch(chunk))
                out.append(torch.softmax(logits.double(), dim=1).cpu().numpy())
        return np.concatenate(out)

    # ---- persistence --------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "scale_lo_": self.scale_lo_,
            "scale_span_": self.scale_span_,
            "train_loss_": np.asarray(self.history_.train_loss, dtype=np.float64),
            **(self.limits_.to_state() if self.limits_ is not None else {}),
            **self.history_.to_state(),
            **module_state(self.model_),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.scale_lo_ = np.asarray(state["scale_lo_"], dtype=np.float64)
        self.scale_span_ = np.asarray(state["scale_span_"], dtype=np.float64)
        self.limits_ = PhysicalLimits.from_state(state)
        self.history_ = TrainHistory.from_state(state) or TrainHistory(train_loss=[float(v) for v in np.asarray(state["train_loss_"])])
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
