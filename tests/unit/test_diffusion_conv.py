"""The diffusion convolution layer against a case computed by hand."""

from __future__ import annotations

import pytest
import torch

from faultlab.detectors._diffusion_conv import DiffusionConv, random_walk_weights

# 0 calls 1 and 2, 1 calls 2. Out-degrees 2, 1, 0; in-degrees 0, 1, 2.
EDGES = torch.tensor([[0, 0, 1], [1, 2, 2]])
X = torch.tensor([[1.0], [2.0], [4.0]])


def _layer(k_hops: int, weights: list[float]) -> DiffusionConv:
    conv = DiffusionConv(1, 1, k_hops=k_hops)
    with torch.no_grad():
        conv.lin.weight.copy_(torch.tensor([weights]))
        conv.lin.bias.zero_()
    return conv


def test_two_hops_both_walks_by_hand():
    # forward walk D_O^-1 A:   P_f x = [(2+4)/2, 4, 0] = [3, 4, 0];  P_f^2 x = [(4+0)/2, 0, 0] = [2, 0, 0]
    # backward walk D_I^-1 A^T: P_b x = [0, 1, (1+2)/2] = [0, 1, 1.5]; P_b^2 x = [0, 0, (0+1)/2] = [0, 0, 0.5]
    # terms are [x, P_f x, P_f^2 x, P_b x, P_b^2 x]; weights 1, 10, 100, 1000, 10000 keep them apart
    out = _layer(2, [1.0, 10.0, 100.0, 1000.0, 10000.0])(X, EDGES)
    expected = torch.tensor([[1 + 30 + 200.0], [2 + 40 + 1000.0], [4 + 1500 + 5000.0]])
    torch.testing.assert_close(out, expected)


def test_batched_input_gives_the_same_per_sample_result():
    conv = DiffusionConv(3, 5, k_hops=2)
    x = torch.randn(4, 3, 3)
    batched = conv(x, EDGES)
    single = torch.stack([conv(x[i], EDGES) for i in range(4)])
    torch.testing.assert_close(batched, single)


def test_isolated_node_only_sees_itself():
    edges = torch.tensor([[0], [1]])  # node 2 has no edges (a context service)
    out = _layer(1, [1.0, 10.0, 100.0])(X, edges)
    assert out[2].item() == pytest.approx(4.0)


def test_duplicate_edges_count_once_and_weights_are_row_stochastic():
    fwd_index, fwd_weight, bwd_index, bwd_weight = random_walk_weights(torch.tensor([[0, 0, 0, 1], [1, 2, 1, 2]]), 3)
    assert fwd_index.shape[1] == 3
    for index, weight in ((fwd_index, fwd_weight), (bwd_index, bwd_weight)):
        rows = torch.zeros(3).index_add_(0, index[1], weight)
        assert all(r.item() == pytest.approx(1.0) or r.item() == 0.0 for r in rows)


def test_zero_hops_is_a_plain_linear_map():
    out = _layer(0, [2.0])(X, EDGES)
    torch.testing.assert_close(out, 2.0 * X)


def test_weighted_walks_by_hand():
    # weights: 0->1: 1, 0->2: 3, 1->2: 2. Forward rows: node 0 sends 1/4 to 1 and 3/4 to 2, node 1 all to 2.
    # P_f x = [(1*2 + 3*4)/4, 4, 0] = [3.5, 4, 0]; backward: node 2 has in-weights 3 (from 0) and 2 (from 1):
    # P_b x = [0, 1, (3*1 + 2*2)/5] = [0, 1, 1.4]
    weights = random_walk_weights(EDGES, 3, torch.tensor([1.0, 3.0, 2.0]))
    out = _layer(1, [1.0, 10.0, 100.0])(X, EDGES, weights)
    expected = torch.tensor([[1 + 35.0], [2 + 40 + 100.0], [4 + 140.0]])
    torch.testing.assert_close(out, expected)


def test_weighted_duplicates_add_and_zero_weights_drop_out():
    edges = torch.tensor([[0, 0, 0, 1], [1, 1, 2, 2]])
    fwd_index, fwd_weight, _, _ = random_walk_weights(edges, 3, torch.tensor([1.0, 2.0, 0.0, 5.0]))
    assert fwd_index.shape[1] == 2  # 0->1 (1 + 2) and 1->2; 0->2 weighs 0
    pairs = {(int(a), int(b)): float(w) for (a, b), w in zip(fwd_index.T, fwd_weight)}
    assert pairs == {(1, 0): pytest.approx(1.0), (2, 1): pytest.approx(1.0)}
    assert random_walk_weights(edges, 3, torch.zeros(4))[0].shape == (2, 0)
