"""ATTAE, the adaptive-threshold temporal autoencoder (Ma, seed 004, sec. 3.2).

Followed:

- An LSTM encoder/decoder trained on normal (fault-free) data only, min-max normalised to
  [0, 1] on that data (sec. 4.2), AdamW (sec. 4.2, Table 4) at learning rate 0.001 (Table 3),
  early stopping on a validation loss (sec. 4.2) within the paper's 200 epochs (Fig. 4:
  ``max_epochs`` = 200; ``patience`` 20 epochs, on the chronological last ``val_fraction`` of
  the fault-free steps).
- **Multi-scale time windows fused in the encoder**: one LSTM per window length (the last
  ``L`` steps for each ``L`` in ``scales``); their final states are concatenated and fused into
  the latent code ``h`` (:class:`faultlab.detectors._ae_nets.MultiScaleAutoencoder`).
- Reconstruction error ``L_rec = 1/T sum_t ||x_t - x'_t||^2`` over the reconstructed steps.
- **Adaptive threshold** ``theta_t = mu_t + beta * sigma_t``, with ``mu_t`` and ``sigma_t`` the
  mean and standard deviation of the reconstruction errors in a sliding window of the
  ``adaptive_window`` steps before ``t``; a step is anomalous when ``L_rec(t) > theta_t``.

**beta and the window, chosen without test labels.** The paper gives neither. Unless fixed by
parameter (``beta=3 adaptive_window=60`` reproduce the earlier fixed choice), both are chosen
at fit on the fault-free training data, the way the paper itself judges ATTAE (against
synthetic anomalies injected into normal sequences, sec. 4.1):

1. the held-out tail (the last ``val_fraction`` of the fault-free steps, never trained on; the
   same tail early stopping watches) is scored clean, and again in copies with one synthetic
   anomaly each, ``injections`` per kind: a **level shift** (a CPU hog, a memory allocation),
   a **ramp** from 0 to full size (a leak) over ``inject_steps`` steps (20: the length of the
   shipped faults, the length the issue saw the adaptive history absorb), and a one-step
   **spike** (a burst), each on ``inject_series`` series drawn at random among those that vary
   in training, by ``inject_sigmas`` (3) training standard deviations, random sign, at a random
   place in the tail (seeded). Three standard deviations is the usual edge of "visible";
   a few series, because a real fault moves a few series of one service;
2. for every ``beta`` in ``beta_grid`` and window in ``window_grid``, the adaptive threshold runs
   as it does at scoring, its history the last training errors (the tail's included, as the
   saved history is), over the clean tail's errors (the fault-free alarm rate) and over the
   injected copies' errors one after another (in a seeded order), each from ``inject_gap`` (60)
   fault-free steps before its anomaly, as faults follow each other in a recording (the shipped
   recordings: 20-step faults about 64 steps apart): a window long enough to still hold the
   previous anomaly's errors (a raised sigma_t) is judged by what that costs the next one;
3. among the pairs that alarm on at most ``alarm_budget`` (1 %) of the clean tail's steps, the
   one with the highest event recall over the injected anomalies wins (ties: the higher step
   recall inside them, then the lower clean alarm rate, then the larger beta, then the shorter
   window); when no pair keeps the budget, the one with the lowest clean alarm rate does.

A tail too short for a window (tiny data) keeps ``beta`` 3 and a 60-step window. The chosen
values, the recall and the clean alarm rate they reached are in ``selection_``, in the model's
``notes_`` and, as ``info_``, on the board (info rows, protocol ``training``).

Where the paper is silent, chosen here:

- Scales 5, 10 and 20 steps (25 s .. 100 s at 5 s scrapes); the decoder reconstructs the last
  ``min(scales)`` steps, so ``L_rec(t)`` is the error of the window ending at ``t`` over those
  steps (short enough that an alarm is not smeared over the long scale). Hidden width 32,
  latent 16, dropout 0.1, AdamW weight decay 0.01 (torch's default).
- The history holds every past error, anomalous or not, as the paper's formula says; so a
  fault that lasts much longer than the window stops alarming as the threshold adapts to it.
  ``history="normal"`` (not in the paper) keeps flagged steps out of the history instead. It is
  a trade-off, measured: on ``synthetic`` (3 seeds, beta 3, window 60) own-threshold F1
  0.40 -> 0.98 and VUS-PR 0.958 -> 1.000, but under a slow drift (tests/unit/test_attae.py) it
  stops following: once the drift is flagged it never enters the history (alarm rate 0.54 vs
  0.12 with "all").
- Scoring continues the history from the end of the fault-free training errors (saved with
  the model), so the first test steps already have a full window.
- ``sigma_t`` is floored at ``sigma_floor`` x the training errors' standard deviation, so a
  very flat history (a constant series) does not turn noise into alarms.
- The detector's step score is ``(L_rec(t) - mu_t) / sigma_t`` and ``threshold_ = beta``:
  ``score > threshold_`` is exactly ``L_rec(t) > theta_t``, and the score ranks steps by how
  far past their own adaptive threshold they are.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from faultlab.dataset import Dataset
from faultlab.detectors import torchkit
from faultlab.detectors.base import Detector
from faultlab.detectors.preprocess import Scaler, fit_minmax, window_scores_to_steps
from faultlab.detectors.registry import DETECTORS
from faultlab.detectors.torchkit import Width
from faultlab.errors import BadInput


class ATTAEParams(torchkit.TorchParams):
    scales: tuple[int, ...] = Field((5, 10, 20), description="window lengths (steps) fused in the encoder")
    hidden_units: Width = Field(32, description="LSTM encoder and decoder width")
    latent_units: Width = Field(16, description="latent code size per step")
    dropout: float = Field(0.1, ge=0, lt=1)
    lr: float = Field(1e-3, gt=0, le=1.0, description="AdamW learning rate (the paper's best, Table 3)")
    weight_decay: float = Field(0.01, ge=0, description="AdamW decoupled weight decay")
    max_epochs: int = Field(200, ge=1, le=10_000, description="cap on training epochs (Fig. 4: 200)")
    patience: int = Field(20, ge=1, description="epochs without validation improvement before stopping")
    beta: float | None = Field(
        None, gt=0, description="theta_t = mu_t + beta * sigma_t; None: chosen on held-out fault-free data"
    )
    adaptive_window: int | None = Field(
        None, ge=2, le=1_000_000, description="past errors (steps) behind mu_t, sigma_t; None: chosen with beta"
    )
    beta_grid: tuple[float, ...] = Field((1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0), min_length=1, description="betas tried")
    window_grid: tuple[int, ...] = Field((20, 40, 80, 160, 320), min_length=1, description="adaptive windows tried (steps)")
    alarm_budget: float = Field(0.01, ge=0, le=1, description="largest share of held-out fault-free steps alarmed")
    injections: int = Field(4, ge=1, le=100, description="synthetic anomalies per kind (shift, ramp, spike)")
    inject_steps: int = Field(20, ge=1, description="steps of an injected shift or ramp")
    inject_series: int = Field(3, ge=1, description="series an injected anomaly moves")
    inject_sigmas: float = Field(3.0, gt=0, description="size of an injected anomaly in training standard deviations")
    inject_gap: int = Field(60, ge=1, description="fault-free steps before each injected anomaly in the sequence judged")
    sigma_floor: float = Field(0.1, ge=0, description="sigma_t >= this x the training errors' std")
    history: Literal["all", "normal"] = Field(
        "all", description="errors behind mu_t, sigma_t: all past steps (the paper) or only those not flagged"
    )
    score_batch_size: int = Field(512, ge=1)

    @field_validator("beta_grid")
    @classmethod
    def _betas_valid(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not b > 0 for b in value):
            raise ValueError("must be positive betas")
        return value

    @field_validator("window_grid")
    @classmethod
    def _windows_valid(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(w < 2 for w in value):
            raise ValueError("must be windows of at least 2 steps")
        return value

    @field_validator("scales")
    @classmethod
    def _scales_valid(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(s < 2 for s in value) or len(set(value)) != len(value):
            raise ValueError("must be distinct window lengths of at least 2 steps")
        if max(value) > 2000:
            raise ValueError("longest scale must be at most 2000 steps")
        return tuple(sorted(value))


#: beta and window when they cannot be chosen (no held-out tail) and are not given.
FALLBACK_BETA, FALLBACK_WINDOW = 3.0, 60
#: The kinds of synthetic anomaly injected into the held-out tail (see the module docstring).
INJECTED = ("shift", "ramp", "spike")


@DETECTORS.register("attae")
class ATTAE(Detector):
    """Multi-scale LSTM autoencoder; score = reconstruction error standardised by its recent past."""

    Params = ATTAEParams
    params: ATTAEParams
    #: A few epochs of small networks: for CI gates and contract tests (seconds on the shipped data).
    ci_params: ClassVar[dict[str, Any]] = {"max_epochs": 3, "hidden_units": 16, "latent_units": 8}
    family: ClassVar[str] = "seed"

    scaler_: Scaler
    history_tail_: np.ndarray  # the last adaptive_window_ training errors
    sigma_min_: float
    beta_: float  # the beta in use: given, or chosen at fit
    adaptive_window_: int  # the window in use: given, or chosen at fit
    selection_: dict[str, Any]  # how they were chosen (rule, recall, clean alarm rate, candidates)
    net_: Any
    history_: Any

    @property
    def window(self) -> int:
        return max(self.params.scales)

    def required_train_steps(self) -> int:
        return max(super().required_train_steps(), self.window)

    @property
    def history_steps(self) -> int:
        """The base's count with the adaptive window in use (chosen at fit unless given)."""
        return super().history_steps - int(self.params.adaptive_window or 0) + int(self.adaptive_window_)

    def _fit(self, train: Dataset) -> np.ndarray:
        owner = f"detector {self.name!r}"
        values = self.matrix(train)
        self.scaler_ = fit_minmax(values)
        scaled = self.scaler_.transform(values)
        device = torchkit.resolve_device(self.params.device)
        with torchkit.seeded(self.seed) as generator:
            self.net_ = self._new_net(scaled.shape[1]).to(device)
            fit_train, fit_val = torchkit.train_val_windows(
                scaled, self.window, self.params.val_fraction, device, owner, self.params.max_train_windows
            )
            self.history_ = torchkit.fit_module(self.net_, self._loss, fit_train, fit_val, self.params, generator, owner)
        errors = self.reconstruction_errors_scaled(scaled)
        self.sigma_min_ = float(max(self.params.sigma_floor * errors.std(), 1e-12))
        self.beta_, self.adaptive_window_, self.selection_ = self._choose(scaled, errors, fit_val is not None)
        self.history_tail_ = errors[-self.adaptive_window_ :].copy()
        return self._scores(errors)  # the training scores, from the errors just computed

    def _new_net(self, n_features: int) -> Any:
        from faultlab.detectors._ae_nets import MultiScaleAutoencoder

        p = self.params
        return MultiScaleAutoencoder(n_features, p.scales, p.hidden_units, p.latent_units, p.dropout)

    def _loss(self, net: Any, batch: Any) -> Any:
        return ((net(batch) - batch[:, -min(self.params.scales) :]) ** 2).mean()

    def _fit_threshold(self, train_scores: np.ndarray) -> float:
        return self.beta_

    # ---- beta and the window, chosen on held-out fault-free data ----------------------------------
    def _choose(self, scaled: np.ndarray, errors: np.ndarray, has_tail: bool) -> tuple[float, int, dict[str, Any]]:
        """``(beta, window, selection)`` by the rule of the module docstring (given values are kept)."""
        p = self.params
        betas = (p.beta,) if p.beta is not None else p.beta_grid
        windows = (p.adaptive_window,) if p.adaptive_window is not None else p.window_grid
        if len(betas) == 1 and len(windows) == 1:
            return float(betas[0]), int(windows[0]), {"rule": "fixed by parameter"}
        n_val = round(len(scaled) * p.val_fraction)
        trials = self._injected(scaled, len(scaled) - n_val) if has_tail and n_val >= 2 else []
        if not trials:
            beta = float(p.beta if p.beta is not None else FALLBACK_BETA)
            window = int(p.adaptive_window if p.adaptive_window is not None else FALLBACK_WINDOW)
            return beta, window, {"rule": "fallback: no held-out fault-free tail to choose on"}
        # As at scoring: the history is the last training errors (the tail included), then come the
        # tail's clean errors again (the fault-free alarm rate), or the injected copies' errors one after
        # another: anomalies a tail apart, as faults follow each other in a recording, so a long window
        # that still holds the previous anomaly's errors pays for it.
        before, clean = errors, errors[len(scaled) - n_val :]
        sequence = np.concatenate([err for err, _, _ in trials])
        offsets = np.cumsum([0] + [len(err) for err, _, _ in trials])
        spans = [np.flatnonzero(span) + offsets[k] for k, (_, span, _) in enumerate(trials)]
        inside = np.concatenate([mask for _, _, mask in trials])
        results = []
        for beta in betas:
            for window in windows:
                flagged = self._alarms(before, clean, int(window), float(beta))
                hits = self._alarms(before, sequence, int(window), float(beta))
                results.append({
                    "beta": float(beta), "adaptive_window": int(window),
                    "clean_alarm_rate": float(flagged.mean()),
                    "event_recall": float(np.mean([hits[span].any() for span in spans])),
                    "step_recall": float(hits[inside].mean()),
                })
        best, rule = pick(results, p.alarm_budget, len(trials))
        selection = {"rule": rule, "held_out_steps": int(n_val), "injected": len(trials),
                     **{k: best[k] for k in ("clean_alarm_rate", "event_recall", "step_recall")},
                     "candidates": results}
        return best["beta"], best["adaptive_window"], selection

    def _injected(self, scaled: np.ndarray, cut: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Copies of the held-out tail (steps ``cut`` on) with one synthetic anomaly each, in a seeded
        order: ``(errors, detection span, injected steps)`` over the copy's steps from ``inject_gap``
        fault-free steps before the anomaly (fewer when the tail is shorter) to ``min(scales) - 1``
        steps past it (windows that still hold it); ``[]`` when nothing can be injected."""
        p = self.params
        tail = len(scaled) - cut
        spread = scaled[:cut].std(axis=0)
        movable = np.flatnonzero(spread > 1e-9)
        if tail < 2 or not len(movable) or cut < self.window - 1:
            return []
        rng = np.random.default_rng(self.seed)
        context = scaled[cut - self.window + 1 :]
        offset, reach = self.window - 1, min(p.scales) - 1
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for kind in INJECTED:
            length = 1 if kind == "spike" else max(1, min(p.inject_steps, tail - 1))
            shape = np.linspace(1.0 / length, 1.0, length) if kind == "ramp" else np.ones(length)
            for _ in range(p.injections):
                start = int(rng.integers(min(p.inject_gap, tail - length), tail - length + 1))
                cols = rng.choice(movable, size=min(p.inject_series, len(movable)), replace=False)
                delta = p.inject_sigmas * spread[cols] * rng.choice([-1.0, 1.0], size=len(cols))
                copy = context.copy()
                copy[offset + start : offset + start + length, cols] += shape[:, None] * delta
                # the copy's errors from ``inject_gap`` fault-free steps before the anomaly to the last
                # window that still holds it
                first, last = start - min(start, p.inject_gap), min(start + length + reach, tail)
                err = self.reconstruction_errors_scaled(copy)[offset + first : offset + last]
                span = np.zeros(last - first, dtype=bool)
                span[start - first :] = True
                inside = np.zeros(last - first, dtype=bool)
                inside[start - first : start - first + length] = True
                out.append((err, span, inside))
        return [out[i] for i in rng.permutation(len(out))]  # the kinds interleaved

    def _alarms(self, before: np.ndarray, errors: np.ndarray, window: int, beta: float) -> np.ndarray:
        """Alarms on ``errors`` with the history continued from ``before`` (the errors preceding them)."""
        mu, sigma = _mu_sigma(before[-window:], errors, window, beta, self.sigma_min_, self.params.history)
        return errors > mu + beta * sigma

    @property
    def info_(self) -> dict[str, float]:
        """The chosen settings and what they reached on the held-out tail (the board's info rows)."""
        info = {"beta": float(self.beta_), "adaptive_window": float(self.adaptive_window_)}
        for key in ("event_recall", "clean_alarm_rate"):
            if key in getattr(self, "selection_", {}):
                info[f"synthetic_{key}"] = float(self.selection_[key])
        return info

    @property
    def notes_(self) -> list[str]:
        """One line on how beta and the window were set."""
        sel = getattr(self, "selection_", {}) or {}
        line = f"beta {self.beta_:g}, adaptive window {self.adaptive_window_} steps: {sel.get('rule', 'fixed by parameter')}"
        if "event_recall" in sel:
            line += (f" (event recall {sel['event_recall']:.2f}, clean alarm rate {sel['clean_alarm_rate']:.3f} on "
                     f"{sel['held_out_steps']} held-out steps)")
        return [line]

    # ---- scoring -----------------------------------------------------------------------------------
    def reconstruction_errors(self, data: Dataset) -> np.ndarray:
        """``L_rec(t)`` per step: mean squared error of the window ending at ``t`` (first steps padded)."""
        return self.reconstruction_errors_scaled(self.scaler_.transform(self.matrix(self.align(data))))

    def reconstruction_errors_scaled(self, scaled: np.ndarray) -> np.ndarray:
        import torch

        if len(scaled) < self.window:
            raise BadInput(f"detector {self.name!r}: needs at least {self.window} steps (the longest scale) to score, got {len(scaled)}")
        device = next(self.net_.parameters()).device
        short = min(self.params.scales)
        out = []
        with torch.no_grad():
            for batch in torchkit.window_set(scaled, self.window, device).all(self.params.score_batch_size):
                out.append(torchkit.to_numpy(((self.net_(batch) - batch[:, -short:]) ** 2).mean(dim=(1, 2))))
        return window_scores_to_steps(np.concatenate(out), self.window, len(scaled))

    def adaptive_threshold(self, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(mu_t, sigma_t)`` per step over the previous ``adaptive_window_`` errors (history first).

        ``history="normal"`` leaves the errors of steps that crossed their threshold out of the
        history (then the steps depend on each other and are computed one by one).
        """
        return _mu_sigma(self.history_tail_, errors, self.adaptive_window_, self.beta_, self.sigma_min_, self.params.history)

    def thresholds(self, data: Dataset) -> np.ndarray:
        """``theta_t`` per step of ``data`` in reconstruction-error units."""
        mu, sigma = self.adaptive_threshold(self.reconstruction_errors(data))
        return mu + self.beta_ * sigma

    def _score(self, data: Dataset) -> np.ndarray:
        return self._scores(self.reconstruction_errors_scaled(self.scaler_.transform(self.matrix(data))))

    def _scores(self, errors: np.ndarray) -> np.ndarray:
        """``(L_rec(t) - mu_t) / sigma_t``: above ``beta`` exactly where ``L_rec(t) > theta_t`` (sec. 3.2)."""
        mu, sigma = self.adaptive_threshold(errors)
        return (errors - mu) / sigma

    def _state(self) -> dict[str, Any]:
        return {
            **torchkit.scaler_state(self.scaler_),
            **torchkit.module_state(self.net_),
            "history_tail_": self.history_tail_,
            "sigma_min_": self.sigma_min_,
            "beta_": self.beta_,
            "adaptive_window_": self.adaptive_window_,
            "selection_": {k: v for k, v in self.selection_.items() if k != "candidates"},
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.scaler_ = torchkit.scaler_from_state(state)
        self.history_tail_ = np.asarray(state["history_tail_"], dtype=np.float64)
        self.sigma_min_ = float(state["sigma_min_"])
        self.beta_ = float(state.get("beta_", self.params.beta or FALLBACK_BETA))
        self.adaptive_window_ = int(state.get("adaptive_window_", self.params.adaptive_window or FALLBACK_WINDOW))
        self.selection_ = dict(state.get("selection_", {"rule": "fixed by parameter"}))
        n_features = len(self.scaler_.center_)
        self.net_ = torchkit.load_module_state(self._new_net(n_features), state).to(torchkit.resolve_device(self.params.device))
        self.history_ = None


def pick(candidates: list[dict[str, Any]], budget: float, injected: int) -> tuple[dict[str, Any], str]:
    """The candidate (beta, window) the selection rule takes, and the rule in words: the highest
    event recall (then step recall) on the synthetic anomalies among those alarming on at most
    ``budget`` of the clean tail; when none keeps the budget, the lowest clean alarm rate."""
    within = [r for r in candidates if r["clean_alarm_rate"] <= budget]
    if within:
        best = max(within, key=lambda r: (r["event_recall"], r["step_recall"], -r["clean_alarm_rate"],
                                          r["beta"], -r["adaptive_window"]))
        return best, f"highest recall on {injected} synthetic anomalies at <= {budget:g} clean alarm rate"
    best = min(candidates, key=lambda r: (r["clean_alarm_rate"], -r["event_recall"], -r["step_recall"], -r["beta"]))
    return best, f"no candidate kept the {budget:g} clean alarm budget: the lowest clean alarm rate"


def _mu_sigma(history: np.ndarray, errors: np.ndarray, window: int, beta: float, sigma_min: float,
              mode: str) -> tuple[np.ndarray, np.ndarray]:
    """``(mu_t, sigma_t)`` of ``errors`` over the ``window`` errors before each step, ``history``
    (the errors before the first one) first; ``mode="normal"`` keeps flagged steps out of it."""
    if mode == "normal":
        from collections import deque

        past: deque[float] = deque((float(e) for e in history[-window:]), maxlen=window)
        mu, sigma = np.empty(len(errors)), np.empty(len(errors))
        for t, e in enumerate(errors):
            arr = np.fromiter(past, dtype=np.float64)
            mu[t], sigma[t] = arr.mean(), max(arr.std(), sigma_min)
            if e <= mu[t] + beta * sigma[t]:
                past.append(float(e))
        return mu, sigma
    # Each step's statistics from its own window only, not from running sums over the whole series:
    # cumulative sums make a step's mu and sigma depend on every error before its window (rounding
    # after a fault's huge errors), so a live scorer with a shorter past would not reproduce them.
    history = np.asarray(history[-window:], dtype=np.float64)
    full = np.concatenate([history, np.asarray(errors, dtype=np.float64)])
    ends = len(history) + np.arange(len(errors))  # the window of step t is full[max(0, end - w) : end]
    mu, sigma = np.zeros(len(errors)), np.zeros(len(errors))
    short = ends < window  # fewer than `window` errors before the step (a short history)
    for i in np.flatnonzero(short):
        if ends[i]:
            mu[i], sigma[i] = full[: ends[i]].mean(), full[: ends[i]].std()
    full_idx = np.flatnonzero(~short)
    if len(full_idx):
        windows = np.lib.stride_tricks.sliding_window_view(full, window)
        for chunk in np.array_split(full_idx, max(1, len(full_idx) * window // 2_000_000 + 1)):
            w = windows[ends[chunk] - window]
            mu[chunk], sigma[chunk] = w.mean(axis=1), w.std(axis=1)
    return mu, np.maximum(sigma, sigma_min)
