"""The networks of TELESTO's GNN baselines (seed 001, sec. 3.3); torch is imported here only.

Both are two graph convolutions over the window graph, node features added per graph
(``global_add_pool``), then a two-layer readout with dropout (:func:`pooled_readout`):

- ``gcn`` (Kipf & Welling 2017): ``GCNConv`` layers; node features row-normalised first
  (PyG's ``NormalizeFeatures`` rule, each node's vector divided by its sum).
- ``gin`` (Xu et al. 2019): ``GINConv`` layers whose MLP maps to the hidden size, epsilon
  learned from 0 (``train_eps``), each layer's input batch-normalised.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import GCNConv, GINConv, global_add_pool


def pooled_readout(hidden: int, n_classes: int, dropout: float) -> nn.Module:
    """Linear, ReLU, dropout, linear: pooled graph features to class logits."""
    return nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes))


class BaselineNet(nn.Module):
    """``layer`` is ``gcn`` or ``gin``; maps ``(x, edge_index, batch)`` to ``n_graphs x n_classes`` logits."""

    def __init__(self, layer: str, window_size: int, hidden: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.layer = layer
        if layer == "gcn":
            self.norm1, self.conv1 = nn.Identity(), GCNConv(window_size, hidden)
            self.norm2, self.conv2 = nn.Identity(), GCNConv(hidden, hidden)
        elif layer == "gin":
            self.norm1, self.conv1 = nn.BatchNorm1d(window_size), GINConv(self._mlp(window_size, hidden), eps=0.0, train_eps=True)
            self.norm2, self.conv2 = nn.BatchNorm1d(hidden), GINConv(self._mlp(hidden, hidden), eps=0.0, train_eps=True)
        else:
            raise ValueError(f"unknown baseline layer {layer!r}")
        self.readout = pooled_readout(hidden, n_classes, dropout)

    @staticmethod
    def _mlp(n_in: int, hidden: int) -> nn.Module:
        return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        if self.layer == "gcn":
            # Row normalisation: scaled values are >= 0 on training data; the absolute value keeps
            # the sum positive for test values below the training minimum.
            x = x / x.abs().sum(dim=1, keepdim=True).clamp(min=1e-12)
        x = torch.relu(self.conv1(self.norm1(x), edge_index))
        x = torch.relu(self.conv2(self.norm2(x), edge_index))
        return self.readout(global_add_pool(x, batch))
