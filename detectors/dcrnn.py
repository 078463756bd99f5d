"""DCRNN forecaster (seed 002: "Deep Learning-Based Spatial-Temporal Graph Architectures for
Resilient Microservice Orchestration and Anomalous Traffic Detection"; network of Li et al.,
"Diffusion Convolutional Recurrent Neural Network", ICLR 2018).

Seed 002 (Methodology) models how traffic "diffuses" through the service graph with a
diffusion-convolution recurrent network, forecasts the expected state of every service for
the next interval, and raises an anomaly flag when the actual state "deviates significantly
from this prediction". Here:

- **Network**: DCGRU sequence-to-sequence (DCRNN Sec. 2.2-2.3): diffusion convolution over
  the *directed* service graph (forward and backward random walks, ``k_hops`` hops) inside
  GRU cells, an encoder over ``history`` steps and a decoder forecasting ``horizon`` steps of
  every service's metrics; see :mod:`faultlab.detectors._dcrnn_net`. Seed 002 mentions an
  LSTM for the temporal part but names DCRNN, whose recurrent unit is a GRU: the GRU is kept.
- **Training** on fault-free data only, MAE loss (as DCRNN), Adam, early stopping on the last
  20 % of the fault-free steps, with **scheduled sampling** (DCRNN Sec. 2.3): the decoder is
  fed the truth with probability ``tau / (tau + exp(i / tau))`` at iteration ``i``,
  ``tau = cl_decay_steps``. DCRNN's ``tau`` of 2000 assumes ~100k iterations; a few thousand
  fault-free steps give ~1-2k iterations here, so the default ``tau`` is 200 (the
  probability falls below 0.1 after about 1400 iterations).
- **Score**: the squared error of the **one-step-ahead** forecast of each step (the freshest
  forecast, available online), per (service, metric) pair, normalised by the pair's
  fault-free error (:mod:`faultlab.detectors.graph_detector`).
- **Threshold**: seed 002 gives no number for "deviates significantly"; the 3-sigma rule on
  the fault-free scores is used (``threshold_sigma``: mean + 3 standard deviations).
- **Root cause**: services ranked by their share of the forecast error over the segment
  (candidate services only), metrics likewise.

Sizes where both papers leave room: one layer of 32 units (DCRNN used 2 x 64 on 207 road
sensors; 32 keeps a 5k-step, 14-service training within minutes on two CPU cores),
``history`` 12 and ``horizon`` 3 steps.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from faultlab.detectors.graph_detector import GraphErrorDetector, GraphParams
from faultlab.detectors.registry import DETECTORS
from faultlab.detectors.torchkit import Width


class DcrnnParams(GraphParams):
    history: int = Field(12, ge=1, le=500, description="input steps the encoder reads")
    horizon: int = Field(3, ge=1, le=100, description="steps the decoder forecasts while training")
    hidden_dim: Width = Field(32, description="DCGRU units per service")
    k_hops: int = Field(2, ge=0, le=10, description="diffusion steps K of each random walk")
    layers: int = Field(1, ge=1, le=4, description="stacked DCGRU layers in encoder and decoder")
    cl_decay_steps: float = Field(200.0, gt=0, description="scheduled sampling tau (iterations)")
    threshold_sigma: float = Field(3.0, gt=0, description="threshold = mean + this many std of fault-free scores")


@DETECTORS.register("dcrnn")
class Dcrnn(GraphErrorDetector):
    """Diffusion-convolutional GRU seq2seq; score = normalised one-step forecast error."""

    Params = DcrnnParams
    params: DcrnnParams
    #: A few epochs of a smaller network: for CI gates and contract tests (seconds on the shipped data).
    ci_params: ClassVar[dict[str, Any]] = {"max_epochs": 3, "hidden_dim": 16, "max_train_windows": 500}
    family: ClassVar[str] = "seed"

    def _network(self, n_services: int, n_metrics: int, edge_index: Any) -> Any:
        from faultlab.detectors._dcrnn_net import DCRNN

        p = self.params
        return DCRNN(n_services, n_metrics, edge_index, hidden_dim=p.hidden_dim, k_hops=p.k_hops, layers=p.layers)

    @property
    def _train_window(self) -> int:
        return self.params.history + self.params.horizon

    @property
    def _score_window(self) -> int:
        return self.params.history + 1  # the history, then the one step forecast from it

    def _train_network(self, x: np.ndarray) -> None:
        self._iteration = 0  # scheduled sampling's clock (Sec. 2.3): training iterations so far
        super()._train_network(x)

    def _loss(self, net: Any, batch: Any) -> Any:
        from faultlab.detectors._dcrnn_net import teacher_probability

        p = self.params
        prob = 0.0
        if net.training:
            prob = teacher_probability(self._iteration, p.cl_decay_steps)
            self._iteration += 1
        history, targets = batch[:, : p.history], batch[:, p.history :]
        forecast = net(history, p.horizon, targets, prob)
        return ((forecast - targets).abs() * self._present).sum() / (self._present.sum() * len(batch) * p.horizon)

    def _last_step_errors(self, batch: Any) -> Any:
        forecast = self.net_(batch[:, : self.params.history], 1)
        return (forecast[:, 0] - batch[:, -1]) ** 2

    def _fit_threshold(self, train_scores: np.ndarray) -> float:
        return float(train_scores.mean() + self.params.threshold_sigma * train_scores.std())
