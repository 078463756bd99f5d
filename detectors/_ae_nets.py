"""torch modules of the seed-003/004 methods (private: imported only when a model is built).

Kept out of the method modules so that importing the detector registry does not import
torch (see :mod:`faultlab.detectors.torchkit`). Shapes are ``B x steps x features``.
"""

from __future__ import annotations

import torch
from torch import nn


class LSTMAutoencoder(nn.Module):
    """SYRROCA's deep LSTM autoencoder (seed 003, sec. IV-B, Fig. 4).

    Encoder: two stacked LSTM cells with dropout between them; the last hidden state of the
    second is the latent code. Decoder: the code repeated over the window, two stacked LSTM
    cells with dropout, and a linear read-out per step. ``B x W x n -> B x W x n``.
    """

    def __init__(self, n_features: int, hidden: int, latent: int, dropout: float) -> None:
        super().__init__()
        self.enc1 = nn.LSTM(n_features, hidden, batch_first=True)
        self.enc2 = nn.LSTM(hidden, latent, batch_first=True)
        self.dec1 = nn.LSTM(latent, latent, batch_first=True)
        self.dec2 = nn.LSTM(latent, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.enc1(x)
        _, (code, _) = self.enc2(self.drop(h))
        z = code[-1].unsqueeze(1).expand(-1, x.shape[1], -1)
        h, _ = self.dec1(z)
        h, _ = self.dec2(self.drop(h))
        return self.out(h)


class MultiScaleAutoencoder(nn.Module):
    """ATTAE's temporal autoencoder with multi-scale windows fused in the encoder (seed 004, sec. 3.2).

    Input: the last ``max(scales)`` steps. For each scale ``L`` an LSTM encodes the last ``L``
    steps (short scales see fast fluctuations, long ones the trend); their final hidden states
    are concatenated and fused by a linear layer into the latent code ``h``. The decoder LSTM
    unrolls ``h`` over the last ``min(scales)`` steps and a linear layer reads them out.
    ``B x max(scales) x n -> B x min(scales) x n``.
    """

    def __init__(self, n_features: int, scales: tuple[int, ...], hidden: int, latent: int, dropout: float) -> None:
        super().__init__()
        self.scales = tuple(sorted(scales))
        self.encoders = nn.ModuleList(nn.LSTM(n_features, hidden, batch_first=True) for _ in self.scales)
        self.fuse = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden * len(self.scales), latent), nn.Tanh())
        self.decoder = nn.LSTM(latent, hidden, batch_first=True)
        self.out = nn.Linear(hidden, n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        codes = [enc(x[:, -length:])[1][0][-1] for enc, length in zip(self.encoders, self.scales)]
        h = self.fuse(torch.cat(codes, dim=1))
        h, _ = self.decoder(h.unsqueeze(1).expand(-1, self.scales[0], -1))
        return self.out(h)


class MultiScaleBlock(nn.Module):
    """Parallel 1-D convolutions of several kernel widths plus a global (window-mean) branch.

    The short kernels model high-frequency changes, the long kernel and the global branch the
    low-frequency pattern (CMSF-GAN's multi-scale feature extraction unit, seed 004 sec. 3.1).
    ``B x C x W -> B x C x W``.
    """

    def __init__(self, channels: int, kernels: tuple[int, ...]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(nn.Conv1d(channels, channels, k, padding=k // 2) for k in kernels)
        self.mix = nn.Conv1d(channels * (len(kernels) + 1), channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [torch.relu(b(x))[..., : x.shape[-1]] for b in self.branches]
        parts.append(x.mean(dim=-1, keepdim=True).expand_as(x))
        return torch.relu(self.mix(torch.cat(parts, dim=1))) + x


class ConditionalGenerator(nn.Module):
    """``G(z, c)``: noise and a one-hot fault type to a ``B x W x n`` window in [0, 1]."""

    def __init__(self, noise_dim: int, n_classes: int, window: int, n_features: int, channels: int, kernels: tuple[int, ...]) -> None:
        super().__init__()
        self.window, self.channels = window, channels
        self.project = nn.Sequential(nn.Linear(noise_dim + n_classes, channels * window), nn.ReLU())
        self.multiscale = MultiScaleBlock(channels, kernels)
        self.out = nn.Conv1d(channels, n_features, 1)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.project(torch.cat([z, c], dim=1)).view(-1, self.channels, self.window)
        return torch.sigmoid(self.out(self.multiscale(h))).transpose(1, 2)


class ConditionalDiscriminator(nn.Module):
    """``D(x, c)`` with an auxiliary classifier head (AC-GAN style) and exposed features ``f(x)``.

    The real/fake logit is conditioned on ``c`` by projection (``w.f + <embed(c), f>``);
    ``features`` is the intermediate activation the feature-matching loss compares.
    """

    def __init__(self, n_features: int, n_classes: int, channels: int, kernels: tuple[int, ...]) -> None:
        super().__init__()
        self.inp = nn.Conv1d(n_features, channels, 1)
        self.multiscale = MultiScaleBlock(channels, kernels)
        self.real = nn.Linear(2 * channels, 1)
        self.embed = nn.Linear(n_classes, 2 * channels, bias=False)
        self.aux = nn.Linear(2 * channels, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.multiscale(torch.nn.functional.leaky_relu(self.inp(x.transpose(1, 2)), 0.2))
        return torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f = self.features(x)
        logit = self.real(f).squeeze(1) + (self.embed(c) * f).sum(dim=1)
        return logit, self.aux(f), f
