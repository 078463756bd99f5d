"""GNN-LSTM-VAE (seed 000: Shariff et al., "Anomaly Detection and Root Cause Analysis in Cloud
Infrastructure Using GNN-LSTM-VAE"): reconstruction error of a graph-LSTM variational autoencoder.

What the paper fixes and where it is followed:

- Input (Sec. 3.1, 4.2): every service is a node of the dependency graph, with all of its
  metrics as node features (application-level HTTP metrics included: request and error
  rates, latency quantiles, in-flight requests), forward/backward filled (the dataset
  already is) and normalised; 24-step sliding windows (``window``).
- Model (Sec. 3.2, Eqs. 1-4): graph layer -> LSTM -> VAE; see
  :mod:`faultlab.detectors._gnn_lstm_vae_net`.
- Training (Sec. 4.4): unsupervised on fault-free data only, Adam, batch 32, 20-50 epochs
  with early stopping (``max_epochs`` 30, ``patience`` 5, on the last 20 % of the fault-free
  steps), loss = reconstruction (MSE) + KL.
- Detection (Sec. 4.5): threshold at the 99th percentile of the fault-free reconstruction
  error (``threshold_quantile``).
- Root cause (Sec. 4.6): the service whose reconstruction deviates most, with feature-wise
  (normalised) contributions: see :mod:`faultlab.detectors.graph_detector`.

Where the paper is silent: the layer sizes (``graph_dim``, ``hidden_dim``, ``latent_dim``),
the KL weight (``beta`` 1, the plain ELBO), the normaliser (robust z-score, clipped), and
which error a window reports: the error of its **last** step, reconstructed with ``z = mu``,
so each step is judged once, with all the window's history behind it, and scores are
deterministic. Training windows may be thinned (``max_train_windows``) for speed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from faultlab.detectors.graph_detector import GraphErrorDetector, GraphParams
from faultlab.detectors.registry import DETECTORS
from faultlab.detectors.torchkit import Width


class GnnLstmVaeParams(GraphParams):
    window: int = Field(24, ge=2, le=1000, description="steps per sliding window (seed 000 Sec. 4.2: 24)")
    graph_dim: Width = Field(32, description="graph-layer output size per service")
    hidden_dim: Width = Field(32, description="LSTM hidden size")
    latent_dim: Width = Field(8, description="VAE latent size per service and step")
    service_dim: int = Field(4, ge=0, le=64, description="learned service-embedding size")
    beta: float = Field(1.0, ge=0, description="weight of the KL term")
    batch_size: int = Field(32, ge=1, le=65_536, description="seed 000 Sec. 4.4: 32")
    threshold_quantile: float = Field(0.99, gt=0, lt=1, description="seed 000 Sec. 4.5: 99th percentile")


@DETECTORS.register("gnn_lstm_vae")
class GnnLstmVae(GraphErrorDetector):
    """Graph layer + LSTM + VAE over the service graph; score = last-step reconstruction error."""

    Params = GnnLstmVaeParams
    params: GnnLstmVaeParams
    #: A few epochs of a smaller network: for CI gates and contract tests (seconds on the shipped data).
    ci_params: ClassVar[dict[str, Any]] = {"max_epochs": 3, "graph_dim": 16, "hidden_dim": 16, "max_train_windows": 500}
    family: ClassVar[str] = "seed"

    def _network(self, n_services: int, n_metrics: int, edge_index: Any) -> Any:
        from faultlab.detectors._gnn_lstm_vae_net import GraphLSTMVAE

        p = self.params
        return GraphLSTMVAE(n_services, n_metrics, edge_index, graph_dim=p.graph_dim, hidden_dim=p.hidden_dim,
                            latent_dim=p.latent_dim, service_dim=p.service_dim)

    @property
    def _train_window(self) -> int:
        return self.params.window

    @property
    def _score_window(self) -> int:
        return self.params.window

    def _loss(self, net: Any, batch: Any) -> Any:
        from faultlab.detectors._gnn_lstm_vae_net import vae_loss

        recon, mu, logvar = net(batch)
        return vae_loss(recon, mu, logvar, batch, self._present, self.params.beta)

    def _last_step_errors(self, batch: Any) -> Any:
        recon, _, _ = self.net_(batch)
        return (recon[:, -1] - batch[:, -1]) ** 2
