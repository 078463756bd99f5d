"""The DCRNN network (Li et al. 2018, Sec. 2.3; seed 002's forecaster): DCGRU seq2seq.

- :class:`DCGRUCell` (Eq. 3): a GRU whose matrix products are diffusion convolutions over the
  directed service graph (:class:`~faultlab.detectors._diffusion_conv.DiffusionConv`): reset
  and update gates from ``[x, h]``, the candidate from ``[x, r * h]``,
  ``h' = u * h + (1 - u) * c``.
- :class:`DCRNN`: the random walks of the (optionally weighted, ``edge_weight``) service graph
  are fixed at construction; an encoder of ``layers`` stacked DCGRU cells reads ``history`` steps; a
  decoder of the same shape starts from the encoder's final states and a zero "GO" input and
  emits ``horizon`` steps, each projected per service to its ``M`` metrics by one linear map
  shared by all services (as in DCRNN).
- **Scheduled sampling** (DCRNN Sec. 2.3, after Bengio et al. 2015): while training, each
  decoder step is fed the true previous step with probability ``teacher_prob`` and the
  model's own previous forecast otherwise; :func:`teacher_probability` gives the paper's
  inverse-sigmoid decay ``tau / (tau + exp(i / tau))`` over training iterations ``i``.

Shapes: ``history`` ``B x H_in x S x M``, ``targets`` ``B x H_out x S x M``; the forecast is
``B x H_out x S x M``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from faultlab.detectors._diffusion_conv import DiffusionConv, random_walk_weights


def teacher_probability(iteration: int, decay_steps: float) -> float:
    """DCRNN's inverse-sigmoid schedule: near 1 at first, falling towards 0 after ~``decay_steps * ln(decay_steps)``."""
    exponent = min(iteration / decay_steps, 700.0)
    return decay_steps / (decay_steps + math.exp(exponent))


class DCGRUCell(nn.Module):
    def __init__(self, in_dim: int, hidden_dim: int, k_hops: int) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.gates = DiffusionConv(in_dim + hidden_dim, 2 * hidden_dim, k_hops)
        self.candidate = DiffusionConv(in_dim + hidden_dim, hidden_dim, k_hops)
        nn.init.constant_(self.gates.lin.bias, 1.0)  # start with gates open, as the DCRNN code does

    def forward(self, x: Tensor, h: Tensor, edge_index: Tensor, weights: tuple[Tensor, ...]) -> Tensor:
        ru = torch.sigmoid(self.gates(torch.cat([x, h], dim=-1), edge_index, weights))
        r, u = ru.split(self.hidden_dim, dim=-1)
        c = torch.tanh(self.candidate(torch.cat([x, r * h], dim=-1), edge_index, weights))
        return u * h + (1.0 - u) * c


class DCRNN(nn.Module):
    """Encoder-decoder of DCGRU cells over ``n_services`` nodes with ``n_metrics`` features each."""

    def __init__(self, n_services: int, n_metrics: int, edge_index: Tensor, hidden_dim: int = 32, k_hops: int = 2,
                 layers: int = 1, edge_weight: Tensor | None = None) -> None:
        super().__init__()
        self.n_services, self.hidden_dim = n_services, hidden_dim
        self.register_buffer("edge_index", edge_index.long(), persistent=False)
        weights = random_walk_weights(edge_index.long(), n_services, edge_weight)
        for name, tensor in zip(("fwd_index", "fwd_weight", "bwd_index", "bwd_weight"), weights):
            self.register_buffer(name, tensor, persistent=False)
        dims = [n_metrics] + [hidden_dim] * (layers - 1)
        self.encoder = nn.ModuleList(DCGRUCell(d, hidden_dim, k_hops) for d in dims)
        self.decoder = nn.ModuleList(DCGRUCell(d, hidden_dim, k_hops) for d in dims)
        self.project = nn.Linear(hidden_dim, n_metrics)

    def _walks(self) -> tuple[Tensor, ...]:
        return (self.fwd_index, self.fwd_weight, self.bwd_index, self.bwd_weight)

    def _step(self, cells: nn.ModuleList, x: Tensor, states: list[Tensor]) -> Tensor:
        walks = self._walks()
        for i, cell in enumerate(cells):
            states[i] = cell(x, states[i], self.edge_index, walks)
            x = states[i]
        return x

    def forward(self, history: Tensor, horizon: int, targets: Tensor | None = None, teacher_prob: float = 0.0) -> Tensor:
        b = history.shape[0]
        states = [history.new_zeros(b, self.n_services, self.hidden_dim) for _ in self.encoder]
        for t in range(history.shape[1]):
            self._step(self.encoder, history[:, t], states)
        x = history.new_zeros(history[:, 0].shape)  # the GO symbol
        out = []
        for t in range(horizon):
            y = self.project(self._step(self.decoder, x, states))
            out.append(y)
            use_truth = targets is not None and self.training and float(torch.rand(())) < teacher_prob
            x = targets[:, t] if use_truth else y
        return torch.stack(out, dim=1)
