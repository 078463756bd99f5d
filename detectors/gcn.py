"""GCN baseline of TELESTO's evaluation (seed 001, sec. 3.3; Kipf & Welling 2017).

As the paper describes it: two ``GCNConv`` layers with 32 hidden channels, input node features
row-normalised (each node's feature vector divided by its sum, PyG's ``NormalizeFeatures``
rule), node features added across each graph (``global_add_pool``), then two linear layers
with dropout in between; softmax in ``predict_proba``. A node's features are the ``w`` scaled
values of its series; the graph is the same fully connected window graph as TELESTO's.
Trained with TELESTO's setup (Table 2, :class:`~faultlab.detectors.graph_windows.GraphClassifierParams`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from faultlab.detectors.graph_windows import GraphClassifier, GraphClassifierParams
from faultlab.detectors.registry import CLASSIFIERS


class GcnParams(GraphClassifierParams):
    hidden: int = Field(32, ge=1, le=4096, description="hidden channels (sec. 3.3: 32)")


def build_gcn(window_size: int, n_classes: int, p: GcnParams) -> Any:
    import torch
    from torch import nn
    from torch_geometric.nn import GCNConv, global_add_pool

    class Gcn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = GCNConv(window_size, p.hidden)
            self.conv2 = GCNConv(p.hidden, p.hidden)
            self.lin1 = nn.Linear(p.hidden, p.hidden)
            self.drop = nn.Dropout(p.dropout)
            self.lin2 = nn.Linear(p.hidden, n_classes)

        def forward(self, x: Any, edge_index: Any, batch: Any) -> Any:
            # Row normalisation (NormalizeFeatures): scaled values are >= 0 on training data;
            # the absolute value keeps the sum positive for test values below the training minimum.
            x = x / x.abs().sum(dim=1, keepdim=True).clamp(min=1e-12)
            x = torch.relu(self.conv1(x, edge_index))
            x = torch.relu(self.conv2(x, edge_index))
            g = global_add_pool(x, batch)
            return self.lin2(self.drop(torch.relu(self.lin1(g))))

    return Gcn()


@CLASSIFIERS.register("gcn")
class Gcn(GraphClassifier):
    """Two-layer GCN graph classifier (TELESTO's baseline); dimension invariant."""

    Params = GcnParams
    #: cheap settings for CI gates and contract tests (same layers, fewer epochs/channels)
    ci_params: ClassVar[dict[str, Any]] = {"max_epochs": 3}
    params: GcnParams

    def _build(self, window_size: int, n_classes: int) -> Any:
        return build_gcn(window_size, n_classes, self.params)
