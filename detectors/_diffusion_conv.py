"""Diffusion convolution (Li et al., DCRNN, ICLR 2018, Sec. 2.2) as a PyTorch Geometric layer.

PyG has no diffusion convolution and ``torch-geometric-temporal`` (which has one) needs
``torch-sparse``, for which the pinned torch has no wheel; so this is a small
``MessagePassing`` layer. For a directed graph with adjacency ``A`` (``A[i, j] = 1`` when
``i`` calls ``j``), out-degrees ``D_O`` and in-degrees ``D_I``, the layer computes

    out = sum_{k=0..K} (D_O^-1 A)^k X Theta_{k,f}  +  sum_{k=1..K} (D_I^-1 A^T)^k X Theta_{k,b}  + b

i.e. ``K`` hops of the forward random walk (each service averages over its callees, so a
callee's state reaches its callers) and of the backward walk (each service averages over
its callers). With edge weights ``W`` (DCRNN Sec. 2.1: a weighted adjacency; seed 002 weighs
an edge by its traffic) ``A`` is ``W`` and the degrees are weighted: a service averages over
its callees in proportion to the traffic it sends each of them. The ``k = 0`` term (``X`` itself) is shared by both walks, as in the DCRNN
reference code: ``2K + 1`` matrices in all, concatenated and mixed by one linear map.
A node without edges (a context service such as the host or the load generator) has zero
rows in both walks, so only its own ``k = 0`` term reaches it.

Shapes: ``x`` is ``[..., N, C_in]`` (any leading batch dimensions), ``edge_index`` ``2 x E``
(caller -> callee, PyG layout); the result is ``[..., N, C_out]``. Cost is ``O(K E C)`` per
call for the walks plus ``O(N (2K+1) C_in C_out)`` for the linear map.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing


def random_walk_weights(
    edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Edge lists and weights of the forward and backward random-walk transition matrices.

    Returns ``(fwd_index, fwd_weight, bwd_index, bwd_weight)`` in PyG's message direction
    (``index[0]`` sends to ``index[1]``): for the forward walk a callee ``j`` sends to its
    caller ``i`` with weight ``w_ij / sum_k w_ik`` (``D_O^-1 W``); for the backward walk a caller
    ``i`` sends to its callee ``j`` with weight ``w_ij / sum_k w_kj`` (``D_I^-1 W^T``).
    Without ``edge_weight`` every edge weighs 1 and duplicate edges count once; with it,
    duplicates add their weights and edges of weight 0 are left out.
    """
    device = edge_index.device
    empty = (torch.empty((2, 0), dtype=torch.long, device=device), torch.empty((0,), dtype=torch.float32, device=device))
    if edge_index.numel() == 0:
        return (*empty, *empty)
    if edge_weight is None:
        edge_index = torch.unique(edge_index.long(), dim=1)
        weight = torch.ones(edge_index.shape[1], dtype=torch.float32, device=device)
    else:
        edge_index, inverse = torch.unique(edge_index.long(), dim=1, return_inverse=True)
        weight = torch.zeros(edge_index.shape[1], dtype=torch.float32, device=device)
        weight = weight.index_add_(0, inverse, edge_weight.to(device=device, dtype=torch.float32))
        keep = weight > 0
        edge_index, weight = edge_index[:, keep], weight[keep]
        if edge_index.numel() == 0:
            return (*empty, *empty)
    src, dst = edge_index[0], edge_index[1]
    out_deg = torch.zeros(num_nodes, device=device).index_add_(0, src, weight)
    in_deg = torch.zeros(num_nodes, device=device).index_add_(0, dst, weight)
    fwd_index = torch.stack([dst, src])
    bwd_index = torch.stack([src, dst])
    return fwd_index, weight / out_deg[src], bwd_index, weight / in_deg[dst]


class DiffusionConv(MessagePassing):
    """Bidirectional K-hop diffusion convolution (DCRNN Eq. 2), see the module docstring."""

    def __init__(self, in_channels: int, out_channels: int, k_hops: int = 2, bias: bool = True) -> None:
        super().__init__(aggr="add", node_dim=-2)
        if k_hops < 0:
            raise ValueError(f"k_hops must be >= 0, got {k_hops}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.k_hops = k_hops
        self.lin = nn.Linear(in_channels * (2 * k_hops + 1), out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, weights: tuple[Tensor, Tensor, Tensor, Tensor] | None = None) -> Tensor:
        """``weights``: precomputed :func:`random_walk_weights` (pass them when the graph is fixed)."""
        if weights is None:
            weights = random_walk_weights(edge_index, x.size(-2))
        fwd_index, fwd_weight, bwd_index, bwd_weight = weights
        terms = [x]
        for index, weight in ((fwd_index, fwd_weight), (bwd_index, bwd_weight)):
            h = x
            for _ in range(self.k_hops):
                h = self.propagate(index, x=h, edge_weight=weight.to(h.dtype), size=(x.size(-2), x.size(-2)))
                terms.append(h)
        return self.lin(torch.cat(terms, dim=-1))

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, k_hops={self.k_hops})"
