"""GIN baseline of TELESTO's evaluation (seed 001, sec. 3.3; Xu et al. 2019).

As the paper describes it: two ``GINConv`` layers with 64 hidden channels; each layer's input
is batch-normalised, its epsilon starts at 0 (learned, ``train_eps``) and an MLP maps the node
features to the hidden size; node features are added across each graph (``global_add_pool``),
then two linear layers with dropout in between; softmax in ``predict_proba``. Same window
graphs and training setup as TELESTO (Table 2).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from faultlab.detectors.graph_windows import GraphClassifier, GraphClassifierParams
from faultlab.detectors.registry import CLASSIFIERS


class GinParams(GraphClassifierParams):
    hidden: int = Field(64, ge=1, le=4096, description="hidden channels (sec. 3.3: 64)")


def build_gin(window_size: int, n_classes: int, p: GinParams) -> Any:
    import torch
    from torch import nn
    from torch_geometric.nn import GINConv, global_add_pool

    def mlp(n_in: int) -> nn.Module:
        return nn.Sequential(nn.Linear(n_in, p.hidden), nn.ReLU(), nn.Linear(p.hidden, p.hidden))

    class Gin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1 = nn.BatchNorm1d(window_size)
            self.conv1 = GINConv(mlp(window_size), eps=0.0, train_eps=True)
            self.norm2 = nn.BatchNorm1d(p.hidden)
            self.conv2 = GINConv(mlp(p.hidden), eps=0.0, train_eps=True)
            self.lin1 = nn.Linear(p.hidden, p.hidden)
            self.drop = nn.Dropout(p.dropout)
            self.lin2 = nn.Linear(p.hidden, n_classes)

        def forward(self, x: Any, edge_index: Any, batch: Any) -> Any:
            x = torch.relu(self.conv1(self.norm1(x), edge_index))
            x = torch.relu(self.conv2(self.norm2(x), edge_index))
            g = global_add_pool(x, batch)
            return self.lin2(self.drop(torch.relu(self.lin1(g))))

    return Gin()


@CLASSIFIERS.register("gin")
class Gin(GraphClassifier):
    """Two-layer GIN graph classifier (TELESTO's baseline); dimension invariant."""

    Params = GinParams
    #: cheap settings for CI gates and contract tests (same layers, fewer epochs/channels)
    ci_params: ClassVar[dict[str, Any]] = {"max_epochs": 3}
    params: GinParams

    def _build(self, window_size: int, n_classes: int) -> Any:
        return build_gin(window_size, n_classes, self.params)
