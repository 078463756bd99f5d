"""CMSF-GAN: conditional multi-scale feature-enhanced GAN (Ma, seed 004, sec. 3.1).

Not a detector: a generator of labelled anomalous windows, one fault type at a time, learnt
from a dataset's labelled fault windows (:func:`faultlab.detectors.windows.fault_windows`),
to enlarge a classifier's training data (:func:`augment`; the harness applies it to a
classifier's training folds when the method's params carry ``augment: {per_class: N}``, or to TELESTO's
splits with ``--protocol-augment cmsf_gan``).

Followed:

- ``x' = G(z, c)`` with ``z ~ N(0, I)`` and ``c`` the one-hot fault type; a multi-scale
  feature extraction unit inside the generator (short and long 1-D convolutions for
  high-frequency changes, a window-mean branch for the low-frequency pattern:
  :class:`faultlab.detectors._ae_nets.MultiScaleBlock`).
- A discriminator ``D(x, c)`` that judges real/fake given ``c`` and has an auxiliary head
  classifying the fault type; the adversarial loss is the conditional GAN loss plus the
  auxiliary classification terms (AC-GAN), and the generator adds the feature-matching loss
  ``L_FM = ||E f(x) - E f(G(z, c))||^2`` on the discriminator's intermediate features:
  ``L_G = L_GAN + lambda_fm L_FM``.
- Inputs min-max scaled to [0, 1] (sec. 4.2; fitted on the given windows), AdamW, lr 0.001
  (sec. 4.2, Tables 3-4).

Where the paper is silent, chosen here:

- Layer sizes (noise 32, 32 channels, kernels 3 and 7), ``lambda_fm`` = 1, ``lambda_aux`` = 1,
  Adam betas (0.5, 0.999) as usual for GANs, batch 32, 300 epochs (a fixed count: GAN losses
  do not tell when samples are good, so there is no early stopping here).
- The generator uses the non-saturating form of its adversarial term (maximise ``log D(G)``
  rather than minimise ``log(1 - D(G))``): the same fixed point, usable gradients early on.
- ``D``'s auxiliary head learns from real windows only (so it learns the true classes);
  ``G``'s auxiliary term asks that ``D`` classify ``G(z, c)`` as ``c``.
- ``c`` conditions ``D`` by projection (``w.f + <embed(c), f>``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from faultlab.detectors.params import build_params
from faultlab.detectors.preprocess import Scaler, fit_minmax
from faultlab.detectors.torchkit import TorchParams, Width, resolve_device, seeded, to_numpy
from faultlab.errors import BadInput


class CMSFGANParams(TorchParams):
    noise_dim: Width = Field(32, description="generator noise size")
    channels: Width = Field(32, description="convolution channels of generator and discriminators")
    kernels: tuple[int, ...] = Field((3, 7), min_length=1, description="odd 1-D kernel widths of the multi-scale unit")
    lambda_fm: float = Field(1.0, ge=0, description="weight of the feature-matching loss")
    lambda_aux: float = Field(1.0, ge=0, description="weight of the auxiliary classification loss")
    max_epochs: int = Field(300, ge=1, le=100_000, description="passes over the labelled windows")
    batch_size: int = Field(32, ge=1, le=65_536)
    lr: float = Field(1e-3, gt=0, le=1.0)


@dataclass
class GANHistory:
    d_loss: list[float]
    g_loss: list[float]
    epoch_s: list[float]


class CMSFGAN:
    """Fit on labelled windows (``N x W x F``), then :meth:`sample` windows of any fitted type."""

    def __init__(self, seed: int = 0, **params: Any) -> None:
        self.seed = int(seed)
        self.params: CMSFGANParams = build_params(CMSFGANParams, params, "cmsf_gan")  # type: ignore[assignment]

    def fit(self, windows: np.ndarray, labels: Sequence[str]) -> CMSFGAN:
        import time

        import torch
        from torch.nn import functional as F

        from faultlab.detectors._ae_nets import ConditionalDiscriminator, ConditionalGenerator

        windows = np.asarray(windows, dtype=np.float64)
        labels_arr = np.asarray([str(x) for x in labels])
        if windows.ndim != 3 or len(windows) == 0:
            raise BadInput(f"cmsf_gan: windows must be a non-empty N x window x features array, got shape {windows.shape}")
        if len(labels_arr) != len(windows):
            raise BadInput(f"cmsf_gan: {len(windows)} windows but {len(labels_arr)} labels")
        p = self.params
        n, w, f = windows.shape
        self.classes_ = np.unique(labels_arr)
        self.window_, self.n_features_ = w, f
        self.scaler_: Scaler = fit_minmax(windows.reshape(-1, f))
        device = resolve_device(p.device)
        x_all = torch.from_numpy(self.scaler_.transform(windows.reshape(-1, f)).reshape(n, w, f).clip(0, 1).astype(np.float32)).to(device)
        y_all = torch.from_numpy(np.searchsorted(self.classes_, labels_arr)).to(device)
        k = len(self.classes_)
        self.history_ = GANHistory([], [], [])
        with seeded(self.seed) as generator:
            self.generator_ = ConditionalGenerator(p.noise_dim, k, w, f, p.channels, p.kernels).to(device)
            disc = ConditionalDiscriminator(f, k, p.channels, p.kernels).to(device)
            opt_g = torch.optim.AdamW(self.generator_.parameters(), lr=p.lr, betas=(0.5, 0.999), weight_decay=p.weight_decay)
            opt_d = torch.optim.AdamW(disc.parameters(), lr=p.lr, betas=(0.5, 0.999), weight_decay=p.weight_decay)
            bce = F.binary_cross_entropy_with_logits
            for _ in range(p.max_epochs):
                tick = time.perf_counter()
                order = torch.randperm(n, generator=generator).to(device)
                d_sum = g_sum = 0.0
                for lo in range(0, n, p.batch_size):
                    idx = order[lo : lo + p.batch_size]
                    x, y = x_all[idx], y_all[idx]
                    c = F.one_hot(y, k).float()
                    z = torch.randn(len(idx), p.noise_dim, generator=generator).to(device)
                    # discriminator: real vs fake given c, plus the type of real windows
                    fake = self.generator_(z, c)
                    real_logit, real_aux, _ = disc(x, c)
                    fake_logit, _, _ = disc(fake.detach(), c)
                    d_loss = (
                        bce(real_logit, torch.ones_like(real_logit))
                        + bce(fake_logit, torch.zeros_like(fake_logit))
                        + p.lambda_aux * F.cross_entropy(real_aux, y)
                    )
                    opt_d.zero_grad(set_to_none=True)
                    d_loss.backward()
                    opt_d.step()
                    # generator: fool D, be classified as c, match D's mean features of real data
                    fake_logit, fake_aux, fake_feat = disc(fake, c)
                    real_feat = disc.features(x).detach()
                    g_loss = (
                        bce(fake_logit, torch.ones_like(fake_logit))
                        + p.lambda_aux * F.cross_entropy(fake_aux, y)
                        + p.lambda_fm * ((real_feat.mean(0) - fake_feat.mean(0)) ** 2).sum()
                    )
                    opt_g.zero_grad(set_to_none=True)
                    g_loss.backward()
                    opt_g.step()
                    d_sum += float(d_loss.detach()) * len(idx)
                    g_sum += float(g_loss.detach()) * len(idx)
                self.history_.d_loss.append(d_sum / n)
                self.history_.g_loss.append(g_sum / n)
                self.history_.epoch_s.append(time.perf_counter() - tick)
        self.generator_.eval()
        return self

    def sample(self, n_per_class: int, fault_types: Sequence[str] | None = None, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``n_per_class`` generated windows of each type (in metric units) and their labels."""
        import torch
        from torch.nn import functional as F

        if not hasattr(self, "generator_"):
            raise BadInput("cmsf_gan is not fitted: call fit(windows, labels) first")
        wanted = list(self.classes_) if fault_types is None else [str(t) for t in fault_types]
        unknown = [t for t in wanted if t not in set(self.classes_)]
        if unknown:
            raise BadInput(f"cmsf_gan: fault type(s) {', '.join(unknown)} were not in training; known: {', '.join(self.classes_)}")
        if n_per_class < 0:
            raise BadInput(f"cmsf_gan: n_per_class must be >= 0, got {n_per_class}")
        labels = np.repeat(np.asarray(wanted, dtype=str), n_per_class)
        if len(labels) == 0:
            return np.empty((0, self.window_, self.n_features_)), labels
        device = next(self.generator_.parameters()).device
        gen = torch.Generator().manual_seed(self.seed if seed is None else seed)
        z = torch.randn(len(labels), self.params.noise_dim, generator=gen).to(device)
        c = F.one_hot(torch.from_numpy(np.searchsorted(self.classes_, labels)), len(self.classes_)).float().to(device)
        with torch.no_grad():
            x = to_numpy(self.generator_(z, c))
        out = self.scaler_.inverse_transform(x.reshape(-1, self.n_features_)).reshape(x.shape)
        return out, labels


def augment(
    windows: np.ndarray, labels: Sequence[str], spec: Mapping[str, Any] | None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A training fold plus CMSF-GAN windows of every fault type in ``labels`` (seed 004 sec. 3.1).

    The one augmentation entry point, for the event folds (a classifier's ``augment`` parameter)
    and TELESTO's splits (``--protocol-augment cmsf_gan``) alike. ``spec`` is
    ``{per_class: N, <CMSFGANParams>}``: N generated windows per type (default: the fold's mean
    windows per type, about doubling it), the rest go to :class:`CMSFGAN` (e.g. ``max_epochs``).
    ``None`` or ``{}`` returns the fold as is. Real windows come first, in their order; the
    generator is trained on exactly these windows, so call it on a fold's training part only.
    """
    labels_arr = np.asarray([str(x) for x in labels])
    real = np.asarray(windows, dtype=np.float64)
    if not spec:
        return real, labels_arr
    params = dict(spec)
    per_class = params.pop("per_class", None)
    if per_class is None:
        per_class = max(1, round(len(labels_arr) / max(len(set(labels_arr.tolist())), 1)))
    if not isinstance(per_class, int) or isinstance(per_class, bool) or per_class < 0:
        raise BadInput(f"augment: 'per_class' must be an integer >= 0, got {per_class!r}")
    if per_class == 0:
        return real, labels_arr
    gan = CMSFGAN(seed=seed, **params).fit(windows, labels_arr)
    fake, fake_labels = gan.sample(per_class)
    return np.concatenate([real, fake]), np.concatenate([labels_arr, fake_labels])
