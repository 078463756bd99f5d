"""The GCN and GIN baselines of TELESTO's sec. 3.3: layers as described, dimension invariant, seeded."""

from __future__ import annotations

import numpy as np
import pytest

from faultlab.detectors import Classifier, make_classifier
from faultlab.harness.evaluation.protocol import (
    ProtocolOptions,
    protocol_windows,
    split_roles,
)
from tests import telesto_data

FAST = {"max_epochs": 3, "batch_size": 32, "progress_after_s": 1e9}


@pytest.fixture(scope="module")
def split():
    data = protocol_windows(telesto_data.make(seed=1, repetitions=3), ProtocolOptions(window_steps=10, stride=3))
    return data, *split_roles(data.folds, 0, data.n_splits)


@pytest.mark.parametrize("name", ["gcn", "gin"])
def test_baseline_trains_predicts_and_takes_more_series(name, split):
    data, train, _, test = split
    model = make_classifier(name, FAST, seed=0).fit(data.windows[train], data.labels[train])
    assert all(np.isfinite(model.history_.train_loss))
    wider = np.concatenate([data.windows[test], data.windows[test][:, :, :2]], axis=2)  # N + 2 series
    for windows in (data.windows[test], wider):
        proba = model.predict_proba(windows)
        assert proba.shape == (int(test.sum()), len(model.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("name", ["gcn", "gin"])
def test_baseline_same_seed_same_output_and_round_trip(name, split, tmp_path):
    data, train, _, test = split
    a = make_classifier(name, FAST, seed=4).fit(data.windows[train], data.labels[train])
    b = make_classifier(name, FAST, seed=4).fit(data.windows[train], data.labels[train])
    np.testing.assert_array_equal(a.predict_proba(data.windows[test]), b.predict_proba(data.windows[test]))
    a.save(tmp_path / name)
    c = Classifier.load(tmp_path / name)
    np.testing.assert_array_equal(c.predict_proba(data.windows[test]), a.predict_proba(data.windows[test]))


def test_baselines_use_the_layers_the_paper_names():
    from torch_geometric.nn import GCNConv, GINConv

    gcn = make_classifier("gcn")
    gin = make_classifier("gin")
    assert (gcn.params.hidden, gin.params.hidden) == (32, 64)
    gcn_net, gin_net = gcn._build(20, 5), gin._build(20, 5)
    assert sum(isinstance(m, GCNConv) for m in gcn_net.modules()) == 2
    gins = [m for m in gin_net.modules() if isinstance(m, GINConv)]
    assert len(gins) == 2 and all(float(m.eps) == 0.0 and m.eps.requires_grad for m in gins)


def test_physical_limits_scale_the_inputs_and_travel_with_the_model(split, tmp_path):
    """Series with a known limit are divided by it (TELESTO sec. 3.2), the rest keep training min-max."""
    from faultlab.detectors.preprocess import PhysicalLimits
    from faultlab.errors import BadInput

    data, train, _, test = split
    d = data.windows.shape[2]
    limits = PhysicalLimits(np.full(d, -1), np.r_[2.0, np.full(d - 1, np.nan)], ("host CPU",) + ("",) * (d - 1))
    model = make_classifier("gin", FAST, seed=0).fit(data.windows[train], data.labels[train], limits=limits)
    assert model.limits_ is limits
    plain = make_classifier("gin", FAST, seed=0).fit(data.windows[train], data.labels[train])
    assert not np.allclose(model.predict_proba(data.windows[test]), plain.predict_proba(data.windows[test]))
    model.save(tmp_path / "gin")
    loaded = Classifier.load(tmp_path / "gin")
    np.testing.assert_array_equal(loaded.predict_proba(data.windows[test]), model.predict_proba(data.windows[test]))
    with pytest.raises(BadInput, match="limits for 2 columns"):
        make_classifier("gin", FAST).fit(data.windows[train], data.labels[train],
                                         limits=PhysicalLimits(np.full(2, -1), np.full(2, 1.0), ("", "")))


def test_early_stopping_watches_the_validation_error_then_its_loss(split):
    """The default monitor (sec. 3.3: the validation loss diverged while validation accuracy still rose)."""
    data, train, val, _ = split
    model = make_classifier("gin", {**FAST, "max_epochs": 6}, seed=0).fit(
        data.windows[train], data.labels[train], validation=(data.windows[val], data.labels[val]))
    h = model.training_["all"]
    assert len(h.val_monitor) == len(h.val_loss) == h.epochs == 6 and all(0.0 <= e <= 1.0 for e in h.val_monitor)
    best = min(range(h.epochs), key=lambda i: (h.val_monitor[i], h.val_loss[i]))  # no tolerance ties on this data
    assert h.best_epoch == best + 1
