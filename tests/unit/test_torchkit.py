"""The shared torch plumbing: devices, seeding, window batches, the training loop, persistence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from torch import nn

from faultlab.dataset import sliding_windows
from faultlab.detectors import torchkit
from faultlab.detectors.persist import read_model, write_model
from faultlab.detectors.preprocess import fit_minmax
from faultlab.errors import BadInput


def test_device_choice():
    assert torchkit.resolve_device("cpu").type == "cpu"
    assert torchkit.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(BadInput, match="device"):
        torchkit.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(BadInput, match="cuda"):
            torchkit.resolve_device("cuda")


def test_params_are_validated():
    with pytest.raises(ValidationError):
        torchkit.TorchParams(device="gpu")
    with pytest.raises(ValidationError):
        torchkit.TorchParams(max_epochs=0)


def test_seeded_repeats_and_restores_the_deterministic_flag():
    before = torch.are_deterministic_algorithms_enabled()
    with torchkit.seeded(5) as gen:
        a = (torch.rand(3), torch.randperm(10, generator=gen), np.random.rand())
        assert torch.are_deterministic_algorithms_enabled()
    with torchkit.seeded(5) as gen:
        b = (torch.rand(3), torch.randperm(10, generator=gen), np.random.rand())
    assert torch.are_deterministic_algorithms_enabled() == before
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[2] == b[2]
    with torchkit.seeded(6):
        assert not torch.equal(torch.rand(3), a[0])


def test_window_set_batches_equal_sliding_windows():
    values = np.arange(40, dtype=np.float32).reshape(20, 2)
    ws = torchkit.window_set(values, 5, torch.device("cpu"))
    expected = sliding_windows(values, 5)
    assert len(ws) == len(expected)
    got = torch.cat(list(ws.all(batch_size=4))).numpy()
    np.testing.assert_array_equal(got, expected)
    thinned = torchkit.window_set(values, 5, torch.device("cpu"), max_windows=4)
    assert len(thinned) == 4
    assert thinned.starts[0] == 0 and thinned.starts[-1] == len(expected) - 1


def test_train_and_validation_windows_share_no_step():
    values = np.arange(100, dtype=np.float32).reshape(100, 1)
    train, val = torchkit.train_val_windows(values, 10, 0.2, torch.device("cpu"), "test")
    assert val is not None
    last_train_step = train.batch(torch.tensor([len(train) - 1]))[0, -1, 0].item()
    first_val_step = val.batch(torch.tensor([0]))[0, 0, 0].item()
    assert last_train_step < first_val_step
    assert len(train) + len(val) + 9 == 100 - 9  # only the windows straddling the cut are lost
    train, val = torchkit.train_val_windows(values[:15], 10, 0.2, torch.device("cpu"), "test")
    assert val is None and len(train) == 6
    with pytest.raises(BadInput, match="window=10"):
        torchkit.train_val_windows(values[:5], 10, 0.2, torch.device("cpu"), "test")


def _regression(seed: int, n: int = 256):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + 0.3).reshape(-1, 1)
    return torchkit.TensorSet((torch.from_numpy(x), torch.from_numpy(y)))


def _mse(module, batch):
    x, y = batch
    return nn.functional.mse_loss(module(x), y)


def _train(seed: int, **overrides):
    params = torchkit.TorchParams(**{"max_epochs": 40, "batch_size": 32, "lr": 0.05, "progress_after_s": 1e9, **overrides})
    with torchkit.seeded(seed) as gen:
        model = nn.Linear(3, 1)
        history = torchkit.fit_module(model, _mse, _regression(0), _regression(1, 64), params, gen, "test")
    return model, history


def test_training_learns_and_repeats_under_the_seed():
    model, history = _train(0)
    best = history.val_loss[history.best_epoch - 1]
    assert best < 0.01 and best < history.val_loss[0]
    again, _ = _train(0)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_early_stopping_stops_and_restores_the_best_weights():
    model, history = _train(0, lr=1.0, patience=2, max_epochs=200)
    assert history.stopped_early and history.epochs < 200
    assert history.epochs == history.best_epoch + 2
    from faultlab.detectors.torchkit import evaluate_loss

    kept = evaluate_loss(model, _mse, _regression(1, 64), 32)
    assert kept == pytest.approx(min(history.val_loss), rel=1e-5)


def test_progress_goes_to_stderr(capsys):
    _train(0, max_epochs=2, progress_after_s=0.0)
    err = capsys.readouterr().err
    assert "test: epoch 1/2 loss" in err and "val" in err


def test_state_round_trips_through_the_model_folder(tmp_path):
    model, _ = _train(0, max_epochs=2)
    scaler = fit_minmax(np.array([[0.0, 1.0], [2.0, 5.0]]))
    write_model(tmp_path / "m", {"kind": "x"}, {**torchkit.module_state(model), **torchkit.scaler_state(scaler)})
    _, state = read_model(tmp_path / "m")
    fresh = torchkit.load_module_state(nn.Linear(3, 1), state)
    x = torch.randn(5, 3)
    assert torch.equal(fresh(x), model(x))
    back = torchkit.scaler_from_state(state)
    np.testing.assert_array_equal(back.center_, scaler.center_)
    np.testing.assert_array_equal(back.scale_, scaler.scale_)
    with pytest.raises(BadInput, match="no weights"):
        torchkit.load_module_state(nn.Linear(3, 1), {})


def test_history_records_the_cap_the_time_and_still_improving():
    _, capped = _train(0, max_epochs=3)  # lr 0.05 on a linear fit: still improving after 3 epochs
    assert capped.max_epochs == 3 and capped.epochs == 3 and capped.fit_s > 0
    assert capped.best_epoch == 3 and capped.still_improving and not capped.stopped_early
    _, stopped = _train(0, lr=1.0, patience=2, max_epochs=200)
    assert stopped.stopped_early and not stopped.still_improving
    assert not torchkit.TrainHistory(train_loss=[1.0, 0.5], best_epoch=2).still_improving  # cap unknown: never flagged


def test_history_round_trips_through_state():
    _, history = _train(0, max_epochs=4)
    back = torchkit.TrainHistory.from_state(history.to_state())
    assert back == history
    assert torchkit.TrainHistory.from_state({}) is None


def test_improves_compares_tuples_in_order_with_a_relative_tolerance():
    improves = torchkit.improves
    assert improves(1.0, None, 1e-4) and improves(0.5, 1.0, 1e-4) and not improves(1.0, 1.0, 1e-4)
    assert not improves(0.99995, 1.0, 1e-4)  # inside the tolerance
    assert improves((0.2, 5.0), (0.3, 1.0), 1e-4)  # a lower error wins whatever the loss
    assert improves((0.3, 0.9), (0.3, 1.0), 1e-4)  # same error: the lower loss wins
    assert not improves((0.4, 0.1), (0.3, 1.0), 1e-4)
    assert improves(1.0, float("inf"), 1e-4)


def test_a_monitor_decides_the_kept_epoch_and_is_recorded():
    calls = []

    def worst_first(module, source):  # pretends epoch 1 was the best: training must keep it
        calls.append(1)
        return float(len(calls))

    params = torchkit.TorchParams(max_epochs=5, batch_size=32, lr=0.05, patience=2, progress_after_s=1e9)
    with torchkit.seeded(0) as gen:
        model = nn.Linear(3, 1)
        history = torchkit.fit_module(model, _mse, _regression(0), _regression(1, 64), params, gen, "test", monitor=worst_first)
    assert history.best_epoch == 1 and history.epochs == 3 and history.stopped_early
    assert history.val_monitor == [1.0, 2.0, 3.0] and len(history.val_loss) == 3
