"""Shared torch plumbing for every deep detector and classifier: one place, not one copy each.

What lives here:

- :class:`TorchParams`: the parameters every torch method shares (``device``, epochs, batch
  size, learning rate, early stopping, validation share). A method's ``Params`` subclasses it.
- :func:`resolve_device` (``"auto"`` = CUDA when present, else CPU) and :func:`seeded`, a
  context that seeds torch and NumPy and turns on deterministic algorithms, so that the same
  seed gives identical scores on the CPU (the contract test demands it).
- :class:`WindowSet` / :class:`TensorSet`: batch sources. Windows are cut from one ``T x F``
  tensor by start index at batch time, so ``N x size x F`` is never materialised (5k steps x
  300 series x 20 steps would be 120 MB per copy).
- :func:`train_val_windows`: chronological split of fault-free steps into training and
  validation windows (the validation slice is the *last* part, as a forecast of unseen time).
- :func:`fit_module`: the generic training loop (AdamW, shuffled mini-batches from a seeded
  generator, early stopping on the validation loss, or on a ``monitor`` such as a classifier's
  validation error, with ``patience`` / ``min_delta``, best weights restored, progress lines on
  stderr once training has run a few seconds). It returns a :class:`TrainHistory`: losses per
  epoch, the epoch kept, the cap, the time, and whether training stopped at the cap while
  still improving; a fitted method keeps it in ``history_`` and the base classes surface it as
  ``training_`` (the board's epochs / best epoch / fit time and loss curves).
- :func:`module_state` / :func:`load_module_state`: a module's ``state_dict`` as npz-ready
  arrays and back (see :mod:`faultlab.detectors.persist`), so save/load gives identical scores.
- :func:`scaler_state` / :func:`scaler_from_state`: persist a :class:`Scaler` (min-max as
  seed 003 asks: :func:`faultlab.detectors.preprocess.fit_minmax`).

torch is imported inside the functions: every module of ``detectors/`` is imported when the
registry loads, and commands that never train (``faultlab list``) should not pay torch's
import time. Put ``nn.Module`` classes in a private module (name starting with ``_``, which
the registry skips) and import it where the model is built.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import numpy as np
from pydantic import Field

from faultlab.detectors.params import Params
from faultlab.detectors.persist import arrays_to_tensors, tensors_to_arrays
from faultlab.detectors.preprocess import Scaler, evenly_thinned
from faultlab.errors import BadInput

if TYPE_CHECKING:
    import torch
    from torch import nn

Device = Literal["auto", "cpu", "cuda"]
#: A layer's width (units, channels, filters): one bound for every model's sizes.
Width = Annotated[int, Field(ge=1, le=4096)]


class TorchParams(Params):
    """Training parameters shared by every torch method (subclass and add the model's own)."""

    device: Device = Field("auto", description="auto = CUDA when present, else CPU")
    max_epochs: int = Field(30, ge=1, le=10_000, description="upper bound on training epochs")
    batch_size: int = Field(64, ge=1, le=65_536)
    lr: float = Field(1e-3, gt=0, le=1.0, description="AdamW learning rate")
    weight_decay: float = Field(0.0, ge=0, description="AdamW decoupled weight decay (0 = plain Adam)")
    patience: int = Field(5, ge=1, description="epochs without validation improvement before stopping")
    min_delta: float = Field(1e-4, ge=0, description="smallest relative drop of the monitored loss that counts as improvement")
    val_fraction: float = Field(0.2, ge=0, lt=0.9, description="last share of fault-free steps kept for early stopping")
    max_train_windows: int | None = Field(
        None, ge=1, description="evenly thinned cap on training windows per epoch (None = all)"
    )
    progress_after_s: float = Field(3.0, ge=0, description="print epoch lines to stderr once training runs this long")


# ---- device and determinism ---------------------------------------------------------------
def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available else CPU; ``"cuda"`` without a GPU is BadInput."""
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise BadInput(f"device must be auto, cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInput("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        # cuBLAS needs this before its first call to be deterministic; harmless when set already.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        return torch.device("cuda")
    return torch.device("cpu")


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """Seed torch (CPU and CUDA) and NumPy, use deterministic algorithms, restore the flag after.

    Yields a CPU ``torch.Generator`` seeded with ``seed`` for batch shuffling, so the order of
    mini-batches does not depend on how many random numbers model initialisation drew.
    ``warn_only`` keeps ops without a deterministic kernel (some CUDA scatters) usable.
    """
    import torch

    was_on = torch.are_deterministic_algorithms_enabled()
    was_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield torch.Generator().manual_seed(seed)
    finally:
        torch.use_deterministic_algorithms(was_on, warn_only=was_warn)


# ---- batch sources ------------------------------------------------------------------------
class BatchSource(Protocol):
    """What :func:`fit_module` iterates: a length and a batch for an index tensor."""

    def __len__(self) -> int: ...

    def batch(self, index: torch.Tensor) -> Any: ...


@dataclass(frozen=True)
class WindowSet:
    """Windows of ``size`` steps over a ``T x F`` tensor, addressed by start step (no copies)."""

    values: torch.Tensor
    starts: torch.Tensor  # int64 start step of each window
    size: int

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        """``B x size x F`` windows ``index`` (positions in ``starts``)."""
        import torch

        index = index.to(self.starts.device)
        steps = self.starts[index].unsqueeze(1) + torch.arange(self.size, device=self.starts.device)
        return self.values[steps]

    def all(self, batch_size: int) -> Iterator[torch.Tensor]:
        """Every window in order, ``batch_size`` at a time (for scoring)."""
        import torch

        for lo in range(0, len(self), batch_size):
            yield self.batch(torch.arange(lo, min(lo + batch_size, len(self)), device=self.starts.device))


@dataclass(frozen=True)
class TensorSet:
    """Aligned tensors (e.g. windows and labels) batched together along their first axis."""

    tensors: tuple[torch.Tensor, ...]

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(t[index.to(t.device)] for t in self.tensors)


def window_set(values: np.ndarray, size: int, device: torch.device, stride: int = 1, max_windows: int | None = None) -> WindowSet:
    """All stride-``stride`` windows of ``size`` over ``T x F`` ``values`` as a :class:`WindowSet`.

    ``max_windows`` thins the starts evenly (deterministic, keeps the whole time span).
    """
    import torch

    values = np.asarray(values, dtype=np.float32)
    n = values.shape[0] - size + 1
    starts = np.arange(0, max(n, 0), stride, dtype=np.int64)
    starts = starts[evenly_thinned(len(starts), max_windows)]
    return WindowSet(
        values=torch.from_numpy(np.ascontiguousarray(values)).to(device),
        starts=torch.from_numpy(starts).to(device),
        size=size,
    )


def train_val_windows(
    values: np.ndarray,
    size: int,
    val_fraction: float,
    device: torch.device,
    owner: str,
    max_train_windows: int | None = None,
) -> tuple[WindowSet, WindowSet | None]:
    """Split fault-free ``T x F`` steps chronologically: training windows, then validation windows.

    The validation slice is the last ``val_fraction`` of the steps and shares no step with any
    training window. When it is shorter than one window (tiny data or ``val_fraction`` 0),
    ``None`` is returned and early stopping watches the training loss instead.
    """
    t = values.shape[0]
    if t < size:
        raise BadInput(f"{owner}: needs at least window={size} fault-free steps, got {t}")
    n_val = round(t * val_fraction)
    if n_val < size or t - n_val < size:
        return window_set(values, size, device, max_windows=max_train_windows), None
    cut = t - n_val
    train = window_set(values[:cut], size, device, max_windows=max_train_windows)
    return train, window_set(values[cut:], size, device)


# ---- the training loop --------------------------------------------------------------------
@dataclass
class TrainHistory:
    """What :func:`fit_module` did: losses per epoch, the epoch kept, the cap and the time.

    ``val_monitor`` holds the monitored validation value per epoch when training was watched by
    a ``monitor`` other than the validation loss (e.g. a classifier's validation error rate).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    epoch_s: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    max_epochs: int = 0  # the cap training ran under (0: unknown, e.g. a model loaded from disk)
    fit_s: float = 0.0  # wall time of the training loop
    val_monitor: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    @property
    def still_improving(self) -> bool:
        """Stopped by the cap, not by early stopping, with its best epoch the last one (best == last == cap):
        more epochs would probably have helped; the board flags it."""
        return self.max_epochs > 0 and self.epochs == self.max_epochs and self.best_epoch == self.epochs

    def to_state(self, prefix: str = "history.") -> dict[str, Any]:
        """npz-ready arrays and scalars (for a method's ``_state``); :meth:`from_state` reads them back."""
        return {
            prefix + "train_loss": np.asarray(self.train_loss, dtype=np.float64),
            prefix + "val_loss": np.asarray(self.val_loss, dtype=np.float64),
            prefix + "epoch_s": np.asarray(self.epoch_s, dtype=np.float64),
            prefix + "val_monitor": np.asarray(self.val_monitor, dtype=np.float64),
            prefix + "best_epoch": int(self.best_epoch),
            prefix + "stopped_early": bool(self.stopped_early),
            prefix + "max_epochs": int(self.max_epochs),
            prefix + "fit_s": float(self.fit_s),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], prefix: str = "history.") -> TrainHistory | None:
        """The history :meth:`to_state` wrote, or None when the state holds none (older model files)."""
        if prefix + "train_loss" not in state:
            return None

        def floats(key: str) -> list[float]:
            return [float(v) for v in np.asarray(state.get(prefix + key, []), dtype=np.float64).reshape(-1)]

        return cls(
            train_loss=floats("train_loss"), val_loss=floats("val_loss"), epoch_s=floats("epoch_s"),
            best_epoch=int(state.get(prefix + "best_epoch", 0)), stopped_early=bool(state.get(prefix + "stopped_early", False)),
            max_epochs=int(state.get(prefix + "max_epochs", 0)), fit_s=float(state.get(prefix + "fit_s", 0.0)),
            val_monitor=floats("val_monitor"),
        )


LossFn = Callable[["nn.Module", Any], "torch.Tensor"]
#: ``monitor(module, validation source)``: what early stopping watches, lower is better; a float,
#: or a tuple compared in order (the first that differs by more than ``min_delta`` decides).
Monitor = Callable[["nn.Module", Any], "float | tuple[float, ...]"]


def fit_module(
    module: nn.Module,
    loss_fn: LossFn,
    train: BatchSource,
    val: BatchSource | None,
    params: TorchParams,
    generator: torch.Generator,
    owner: str,
    clip_norm: float | None = 5.0,
    monitor: Monitor | None = None,
) -> TrainHistory:
    """Train ``module`` with AdamW on mini-batches of ``train``; early-stop on ``val``; keep the best.

    ``loss_fn(module, batch)`` returns the mean loss of one batch (``batch`` is what the source's
    ``batch`` returns). The monitored value is ``monitor(module, val)`` when given (e.g. a
    classifier's validation error, then its loss), else the validation loss, or the training
    loss when there is no validation source. Training stops after ``params.patience`` epochs
    without an improvement larger than ``params.min_delta`` (relative to the best value, so the
    setting works whatever the loss's scale), and the best epoch's weights are put back.
    Gradient norms are clipped at ``clip_norm`` (LSTMs explode otherwise on unscaled spikes).
    The history records the cap (``params.max_epochs``) and the loop's wall time.
    """
    import torch

    if len(train) == 0:
        raise BadInput(f"{owner}: no training windows")
    optimiser = torch.optim.AdamW(module.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    history = TrainHistory(max_epochs=params.max_epochs)
    best: float | tuple[float, ...] | None = None
    best_state, waited = copy.deepcopy(module.state_dict()), 0
    started = time.perf_counter()
    for epoch in range(1, params.max_epochs + 1):
        tick = time.perf_counter()
        module.train()
        total, count = 0.0, 0
        order = torch.randperm(len(train), generator=generator)
        for lo in range(0, len(train), params.batch_size):
            index = order[lo : lo + params.batch_size]
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(module, train.batch(index))
            if not torch.isfinite(loss):
                raise BadInput(f"{owner}: training loss became {loss.item()} at epoch {epoch}; lower lr or check the data")
            loss.backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(module.parameters(), clip_norm)
            optimiser.step()
            total += float(loss.detach()) * len(index)
            count += len(index)
        history.train_loss.append(total / count)
        monitored: float | tuple[float, ...]
        if val is not None and len(val):
            history.val_loss.append(evaluate_loss(module, loss_fn, val, params.batch_size))
            monitored = history.val_loss[-1]
            if monitor is not None:
                module.eval()
                with torch.no_grad():
                    monitored = monitor(module, val)
                first = monitored[0] if isinstance(monitored, tuple) else monitored
                history.val_monitor.append(float(first))
        else:
            monitored = history.train_loss[-1]
        history.epoch_s.append(time.perf_counter() - tick)
        if improves(monitored, best, params.min_delta):
            best, best_state, waited = monitored, copy.deepcopy(module.state_dict()), 0
            history.best_epoch = epoch
        else:
            waited += 1
        if time.perf_counter() - started >= params.progress_after_s:
            _progress(owner, epoch, params.max_epochs, history)
        if waited >= params.patience:
            history.stopped_early = True
            break
    module.load_state_dict(best_state)
    module.eval()
    history.fit_s = time.perf_counter() - started
    return history


def improves(value: float | tuple[float, ...], best: float | tuple[float, ...] | None, min_delta: float) -> bool:
    """Whether ``value`` beats ``best`` (lower is better) by more than ``min_delta`` relative to it.

    Tuples are compared in order: the first component that differs by more than the tolerance
    decides; a tie on every component is no improvement. A non-finite ``best`` is always beaten.
    """
    if best is None:
        return True
    values = value if isinstance(value, tuple) else (value,)
    bests = best if isinstance(best, tuple) else (best,)
    for v, b in zip(values, bests):
        if not math.isfinite(b):
            return True
        tolerance = min_delta * max(abs(b), 1e-12)
        if v < b - tolerance:
            return True
        if v > b + tolerance:
            return False
    return False


def evaluate_loss(module: nn.Module, loss_fn: LossFn, source: BatchSource, batch_size: int) -> float:
    """Mean of ``loss_fn`` over ``source`` in eval mode without gradients (size-weighted)."""
    import torch

    module.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for lo in range(0, len(source), batch_size):
            index = torch.arange(lo, min(lo + batch_size, len(source)))
            total += float(loss_fn(module, source.batch(index))) * len(index)
            count += len(index)
    return total / max(count, 1)


def _progress(owner: str, epoch: int, max_epochs: int, history: TrainHistory) -> None:
    val = f" val {history.val_loss[-1]:.5g}" if history.val_loss else ""
    print(
        f"{owner}: epoch {epoch}/{max_epochs} loss {history.train_loss[-1]:.5g}{val} ({history.epoch_s[-1]:.1f} s/epoch)",
        file=sys.stderr,
        flush=True,
    )


# ---- persistence --------------------------------------------------------------------------
def module_state(module: nn.Module, prefix: str = "torch.") -> dict[str, np.ndarray]:
    """``module``'s ``state_dict`` as arrays keyed ``prefix + name`` (for ``Detector._state``)."""
    return tensors_to_arrays(module.state_dict(), prefix)


def load_module_state(module: nn.Module, state: dict[str, Any], prefix: str = "torch.") -> nn.Module:
    """Fill ``module`` from :func:`module_state`'s arrays (strict: every weight must be there)."""
    tensors = arrays_to_tensors(state, prefix)
    if not tensors:
        raise BadInput(f"saved model holds no weights under {prefix!r}")
    module.load_state_dict(tensors, strict=True)
    module.eval()
    return module


def scaler_state(scaler: Scaler, prefix: str = "scaler.") -> dict[str, np.ndarray]:
    return {prefix + "center": np.asarray(scaler.center_), prefix + "scale": np.asarray(scaler.scale_)}


def scaler_from_state(state: dict[str, Any], prefix: str = "scaler.") -> Scaler:
    return Scaler(center_=np.asarray(state[prefix + "center"]), scale_=np.asarray(state[prefix + "scale"]))


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Detached float64 NumPy copy (scores leave torch as float64)."""
    return tensor.detach().cpu().numpy().astype(np.float64)
