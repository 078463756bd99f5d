"""TELESTO (Scheinert & Acker, seed 001, sec. 2.2, Fig. 2, Table 2): fault types from graphs of series.

Each window of ``w`` steps over ``d`` metric series is a fully connected graph with one node
per series (:mod:`faultlab.detectors.graph_windows`). Per window, shapes::

    x: (d, w) -> node filter F: positional encoding + Conv1d(k=3, same length) + BatchNorm
       -> (d, conv_channels * w) -> adjacency dropout -> Linear -> (d, hidden)
    graph transformation, ``levels`` times:  t_l = ELU(TAGConv_K(t_{l-1})) + t_{l-1}  (SLC)
                                             g_l = GATConv(t_l), ``heads`` heads concatenated
    JumpingKnowledge(LSTM) over g_1..g_L -> (d, hidden)
    feed-forward block (dropout, Linear, ELU, dropout, Linear) + sublayer connection
    global attention pooling -> (hidden,)
    Conv1d(1 -> 10 filters, size 9, same length) + BatchNorm, the 10 maps averaged -> (hidden,)
    Linear -> (n_classes,) logits (softmax in predict_proba)

From PyTorch Geometric: ``TAGConv``, ``GATConv``, ``JumpingKnowledge("lstm")``,
``AttentionalAggregation`` and ``dropout_edge`` (the adjacency dropout). Written by hand,
as small ``torch.nn`` pieces the paper describes but PyG does not ship: the fixed sinusoidal
positional encoding of the node filter (Vaswani et al., as channels next to the series), the
node filter's convolution, and the final convolution head over the graph embedding.

Choices where the paper leaves room: each GAT head has ``hidden // heads`` channels so the
concatenated heads keep the paper's node feature size of 64 at every level (the paper's text
implies concatenation, not the per-head size); ``jk_layers`` (7 in sec. 3.2) sets the size of
PyG's JK LSTM; the ELU after each TAGConv is the red activation block of Fig. 2.

Training follows Table 2 (Adam, lr 1e-3, weight decay 1e-5, dropout 0.5, cross entropy, Xavier
initialisation) with its 15 epochs of batches of 128 scaled to the number of training graphs, so
that a small recording gets at least the paper's ~930 gradient steps, and early stopping on the
validation fold; inputs are scaled by physical limits where the dataset gives them (CPU quota or
host cores, memory limit or host memory, link speed) and by training min-max elsewhere (sec.
3.2). Both are in :mod:`faultlab.detectors.graph_windows` (shared with the GCN and GIN baselines).

Fast configuration for CI (:data:`FAST_PARAMS`; two levels of 32 channels, a few epochs on at
most 1024 windows; smaller than this it stops learning within the epochs)::

    {"max_epochs": 6, "hidden": 32, "heads": 4, "levels": 2, "jk_layers": 2, "batch_size": 32,
     "max_train_windows": 1024}
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from faultlab.detectors.graph_windows import GraphClassifier, GraphClassifierParams
from faultlab.detectors.registry import CLASSIFIERS
from faultlab.detectors.torchkit import Width

#: The fast configuration named in the module docstring (CI and unit tests).
FAST_PARAMS: dict[str, Any] = {
    "max_epochs": 6, "hidden": 32, "heads": 4, "levels": 2, "jk_layers": 2, "batch_size": 32, "max_train_windows": 1024,
}


class TelestoParams(GraphClassifierParams):
    hidden: int = Field(64, ge=2, le=4096, description="node feature size of the graph transformation (sec. 3.2: 64)")
    levels: int = Field(5, ge=1, le=32, description="graph transformation levels (sec. 3.2: 5)")
    tag_k: int = Field(3, ge=1, le=10, description="TAGConv hops K (sec. 3.2: 3)")
    heads: int = Field(8, ge=1, le=64, description="GAT attention heads (sec. 3.2: 8)")
    jk_layers: int = Field(7, ge=1, le=64, description="JK LSTM size (sec. 3.2: seven layers)")
    conv_channels: Width = Field(4, description="features the node filter's convolution extracts per step")
    pe_channels: int = Field(4, ge=0, le=64, description="sinusoidal positional encoding channels of the node filter")
    edge_dropout: float = Field(0.5, ge=0, lt=1.0, description="dropout on the entries of the fully connected adjacency")
    head_filters: Width = Field(10, description="final 1D convolution: number of filters (paper: 10)")
    head_kernel: int = Field(9, ge=1, le=63, description="final 1D convolution: filter size, odd (paper: 9)")

    @model_validator(mode="after")
    def _shapes(self) -> TelestoParams:
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be a multiple of heads ({self.heads})")
        if self.head_kernel % 2 == 0:
            raise ValueError(f"head_kernel must be odd to keep the embedding length, got {self.head_kernel}")
        return self


def _positional_encoding(length: int, channels: int) -> Any:
    """``channels x length`` fixed sinusoids (Vaswani et al. 2017), one pair per frequency."""
    import torch

    pe = torch.zeros(channels, length)
    pos = torch.arange(length, dtype=torch.float32)
    for c in range(channels):
        freq = 1.0 / (10000.0 ** (2 * (c // 2) / max(channels, 1)))
        pe[c] = torch.sin(pos * freq) if c % 2 == 0 else torch.cos(pos * freq)
    return pe


def build_telesto(window_size: int, n_classes: int, p: TelestoParams) -> Any:
    """The TELESTO network of Fig. 2 for windows of ``window_size`` steps."""
    import torch
    from torch import nn
    from torch_geometric.nn import (
        AttentionalAggregation,
        GATConv,
        JumpingKnowledge,
        TAGConv,
    )
    from torch_geometric.utils import dropout_edge

    class Telesto(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("pe", _positional_encoding(window_size, p.pe_channels))
            self.node_conv = nn.Conv1d(1 + p.pe_channels, p.conv_channels, kernel_size=3, padding=1)
            self.node_norm = nn.BatchNorm1d(p.conv_channels)
            self.project = nn.Linear(p.conv_channels * window_size, p.hidden)
            self.tags = nn.ModuleList(TAGConv(p.hidden, p.hidden, K=p.tag_k) for _ in range(p.levels))
            self.gats = nn.ModuleList(
                GATConv(p.hidden, p.hidden // p.heads, heads=p.heads, concat=True) for _ in range(p.levels)
            )
            self.jk = JumpingKnowledge("lstm", channels=p.hidden, num_layers=p.jk_layers)
            self.fff = nn.Sequential(
                nn.Dropout(p.dropout), nn.Linear(p.hidden, p.hidden), nn.ELU(), nn.Dropout(p.dropout), nn.Linear(p.hidden, p.hidden)
            )
            self.pool = AttentionalAggregation(gate_nn=nn.Linear(p.hidden, 1))
            self.head_conv = nn.Conv1d(1, p.head_filters, kernel_size=p.head_kernel, padding=p.head_kernel // 2)
            self.head_norm = nn.BatchNorm1d(p.head_filters)
            self.out = nn.Linear(p.hidden, n_classes)
            self.act = nn.ELU()

        def forward(self, x: Any, edge_index: Any, batch: Any) -> Any:
            n_nodes = x.shape[0]
            series = x.unsqueeze(1)  # (nodes, 1, w)
            if p.pe_channels:
                series = torch.cat([series, self.pe.unsqueeze(0).expand(n_nodes, -1, -1)], dim=1)
            h = self.node_norm(self.node_conv(series)).flatten(1)  # (nodes, conv_channels * w)
            edge_index, _ = dropout_edge(edge_index, p=p.edge_dropout, training=self.training)
            t = self.project(h)
            levels = []
            for tag, gat in zip(self.tags, self.gats):
                t = self.act(tag(t, edge_index)) + t
                levels.append(gat(t, edge_index))
            z = self.jk(levels)
            z = z + self.fff(z)
            g = self.pool(z, batch)  # (graphs, hidden)
            g = self.head_norm(self.head_conv(g.unsqueeze(1))).mean(dim=1)
            return self.out(g)

    return Telesto()


@CLASSIFIERS.register("telesto")
class Telesto(GraphClassifier):
    """TELESTO graph classifier (seed 001); dimension invariant (one node per series)."""

    Params = TelestoParams
    #: cheap settings for CI gates and contract tests (same layers, fewer epochs/channels)
    ci_params: ClassVar[dict[str, Any]] = FAST_PARAMS
    family: ClassVar[str] = "seed"
    params: TelestoParams

    def _build(self, window_size: int, n_classes: int) -> Any:
        return build_telesto(window_size, n_classes, self.params)

