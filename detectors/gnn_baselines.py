"""TELESTO's GNN baselines, GCN and GIN (seed 001, sec. 3.3), as fault-type classifiers.

As the paper describes them: two graph-convolution layers (``GCNConv`` with 32 hidden channels,
or ``GINConv`` with 64), node features added across each graph, then two linear layers with
dropout in between; softmax in ``predict_proba`` (the networks: :mod:`._gnn_baseline_nets`).
A node's features are the ``w`` scaled values of its series (physical limits where known, sec.
3.2); the graph is the same fully connected window graph as TELESTO's, trained with TELESTO's
setup (Table 2, :class:`~faultlab.detectors.graph_windows.GraphClassifierParams`: 15 epochs of
128 graphs scaled to the paper's gradient steps, :func:`~faultlab.detectors.graph_windows.training_schedule`,
early stopping on the validation fold). Both are dimension invariant.
The two share one file because they differ only in the convolution and its width.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from faultlab.detectors.graph_windows import GraphClassifier, GraphClassifierParams
from faultlab.detectors.registry import CLASSIFIERS
from faultlab.detectors.torchkit import Width


class GcnParams(GraphClassifierParams):
    hidden: Width = Field(32, description="hidden channels (sec. 3.3: GCN 32)")


class GinParams(GcnParams):
    hidden: Width = Field(64, description="hidden channels (sec. 3.3: GIN 64)")


class GnnBaseline(GraphClassifier):
    """Two graph convolutions, global add pooling, a two-layer readout."""

    layer: ClassVar[Literal["gcn", "gin"]]
    #: cheap settings for CI gates and contract tests (same layers, fewer epochs)
    ci_params: ClassVar[dict[str, Any]] = {"max_epochs": 3}
    family: ClassVar[str] = "seed"  # TELESTO's own baselines (seed 001, Table 3)
    params: GcnParams

    def _build(self, window_size: int, n_classes: int) -> Any:
        from faultlab.detectors._gnn_baseline_nets import BaselineNet

        return BaselineNet(self.layer, window_size, self.params.hidden, n_classes, self.params.dropout)


@CLASSIFIERS.register("gcn")
class Gcn(GnnBaseline):
    """Two-layer GCN graph classifier (Kipf & Welling 2017)."""

    Params, layer = GcnParams, "gcn"


@CLASSIFIERS.register("gin")
class Gin(GnnBaseline):
    """Two-layer GIN graph classifier (Xu et al. 2019)."""

    Params, layer = GinParams, "gin"
