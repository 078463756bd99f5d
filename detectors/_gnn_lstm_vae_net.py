"""The GNN-LSTM-VAE network of seed 000 (Sec. 3.2, Eqs. 1-4).

Per window of ``T`` steps over ``S`` services with ``M`` metrics each (``B x T x S x M``):

1. **Graph layer** (Eq. 1, ``H_t = sigma(A X_t W_g)``): one PyG ``GCNConv`` per step over the
   service graph (made undirected, with self loops and symmetric normalisation), so a
   service's embedding mixes its own metrics with its callers' and callees' (self loops:
   without them a service's own metrics would not reach its embedding). ReLU is the
   ``sigma``. With ``service_dim > 0`` (an addition the paper lacks, off by default) a learned
   service embedding is appended to the inputs and to the decoder's input.
2. **LSTM** (Eq. 2): one LSTM, weights shared by all services, runs over each service's
   sequence of graph embeddings; this keeps the model's size independent of the number of
   services.
3. **VAE** (Eqs. 3-4): ``mu`` and ``log sigma^2`` of a per-service, per-step latent ``z`` from
   the hidden state; ``z = mu + sigma * eps`` while training, ``z = mu`` when scoring (so
   scores are deterministic); an MLP decoder (Eq. 4, ``x^_t = f(z)``; given the service
   embedding too when there is one) reconstructs that step's metrics.

Output: reconstruction ``B x T x S x M`` plus ``mu`` and ``logvar`` (``B x T x S x L``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv
from torch_geometric.utils import to_undirected


class GraphLSTMVAE(nn.Module):
    """See the module docstring; ``edge_index`` is ``2 x E`` caller -> callee over the S services."""

    def __init__(
        self,
        n_services: int,
        n_metrics: int,
        edge_index: Tensor,
        graph_dim: int = 32,
        hidden_dim: int = 32,
        latent_dim: int = 8,
        service_dim: int = 4,
    ) -> None:
        super().__init__()
        undirected = to_undirected(edge_index.long(), num_nodes=n_services) if edge_index.numel() else edge_index.long()
        self.register_buffer("edge_index", undirected, persistent=False)
        self.service_dim = service_dim
        self.service_embedding = nn.Embedding(n_services, service_dim) if service_dim else None
        self.graph = GCNConv(n_metrics + service_dim, graph_dim)
        self.lstm = nn.LSTM(graph_dim, hidden_dim, batch_first=True)
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim + service_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, n_metrics)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        b, t, s, _ = x.shape
        emb = self.service_embedding.weight if self.service_embedding is not None else x.new_zeros(s, 0)  # S x D
        inputs = torch.cat([x, emb.expand(b, t, s, emb.shape[1])], dim=-1).reshape(b * t, s, -1)
        h = torch.relu(self.graph(inputs, self.edge_index))  # (B*T) x S x G
        h = h.reshape(b, t, s, -1).permute(0, 2, 1, 3).reshape(b * s, t, -1)
        hidden, _ = self.lstm(h)  # (B*S) x T x H
        mu, logvar = self.to_mu(hidden), self.to_logvar(hidden).clamp(-10.0, 10.0)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        service = emb.repeat(b, 1).unsqueeze(1).expand(b * s, t, emb.shape[1])
        recon = self.decoder(torch.cat([z, service], dim=-1))  # (B*S) x T x M

        def back(v: Tensor) -> Tensor:
            return v.reshape(b, s, t, -1).permute(0, 2, 1, 3)

        return back(recon), back(mu), back(logvar)


def vae_loss(recon: Tensor, mu: Tensor, logvar: Tensor, x: Tensor, present: Tensor, beta: float) -> Tensor:
    """Negative ELBO per (step, service): 0.5 * squared error over present metrics + beta * KL.

    A unit-variance Gaussian decoder gives the ``0.5 * squared error`` term (seed 000 Sec. 4.4:
    "Reconstruction loss (Mean Squared Error) + VAE Regularization").
    """
    recon_term = 0.5 * (((recon - x) ** 2) * present).sum(dim=-1)
    kl = -0.5 * (1.0 + logvar - mu**2 - logvar.exp()).sum(dim=-1)
    return (recon_term + beta * kl).mean()
