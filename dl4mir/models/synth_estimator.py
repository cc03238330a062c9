"""Synthesizer parameter estimation (sound matching): a note's log-mel spectrogram → the patch that made it, as the
patch's point in the unit cube of its synth's parameters (:mod:`dl4mir.synth.patches`).  Flow Synthesizer's
(Esling et al. 2020) estimators, trained on ``synth-presets``:

- ``estimator="regression"`` (its MLP and CNN baselines): a head regresses the patch, mean squared error in the cube.
- ``estimator="vae"`` (its VAE + regression baseline): the encoder's features become a Gaussian posterior over a
  ``latent_dim`` code that must also reconstruct the spectrogram (MSE + ``beta`` · KL, weighted by
  ``recon_weight``); the patch is regressed from the code (its mean at inference).
- ``estimator="flow"`` (its regression flow, in the form of a conditional normalizing flow): a neural spline flow
  (zuko's NSF) models the distribution of patches given the sound, on the patch's logit (so samples stay inside
  the cube), trained by negative log-likelihood; the estimate is the mean of ``flow_samples`` samples (the
  posterior mean, what mean squared error rewards).  Many patches sound alike: a flow can say so, a regression
  averages them.

The CNN keeps time (no global pooling): an envelope's attack, decay and release are *when* things happen.  Every
prediction is a valid patch (a sigmoid); :func:`dl4mir.synth.patches.denormalize` turns it into one and
:func:`dl4mir.synth.matching.match` can refine it through the synth.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import zuko
from torch import nn
from torch.nn import functional as F

from dl4mir.errors import ParameterError

ESTIMATORS = ("regression", "vae", "flow")


@dataclass
class SynthEstimatorConfig:
    n_mels: int = 64
    n_frames: int = 63  # 1 s at hop 256, 16 kHz
    n_params: int = 14  # the synth's parameter count (the data says: its target vectors' length)
    encoder: str = "cnn"  # or "mlp"
    channels: tuple[int, ...] = (16, 32, 64)
    hidden: int = 256
    dropout: float = 0.2
    target_mean: float = 0.0  # the loop standardizes targets: unit-cube value = target · std + mean
    target_std: float = 1.0
    estimator: str = "regression"  # or "vae", "flow" (see the module's docstring)
    latent_dim: int = 16  # vae: the code's size
    beta: float = 0.1  # vae: weight of the KL term (per latent dimension) against the reconstruction
    recon_weight: float = 0.1  # vae: weight of the reconstruction (standardized log-mel MSE) against the patch MSE
    flow_transforms: int = 3  # flow: spline transforms
    flow_samples: int = 32  # flow: samples averaged into one estimate


class SynthEstimator(nn.Module):
    input_kind = "logmel"
    own_objective = True  # forward computes the loss from the patch vectors

    def __init__(self, cfg: SynthEstimatorConfig):
        super().__init__()
        if cfg.encoder not in ("cnn", "mlp"):
            raise ParameterError(f"synth-estimator encoder {cfg.encoder!r}: use 'cnn' or 'mlp'")
        if cfg.estimator not in ESTIMATORS:
            raise ParameterError(f"synth-estimator estimator {cfg.estimator!r}: use one of {', '.join(ESTIMATORS)}")
        self.cfg = cfg
        self.val_metric = "nll" if cfg.estimator == "flow" else "param_mse"  # a flow's estimate costs sampling
        if cfg.encoder == "cnn":
            blocks, c_in = [], 1
            for c in cfg.channels:
                blocks += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
                c_in = c
            self.encoder = nn.Sequential(*blocks, nn.Flatten())
            shrink = 2 ** len(cfg.channels)
            n_flat = c_in * (cfg.n_mels // shrink) * (cfg.n_frames // shrink)
        else:
            self.encoder = nn.Flatten()
            n_flat = cfg.n_mels * cfg.n_frames
        mlp = lambda d_in, d_out: nn.Sequential(  # noqa: E731
            nn.Linear(d_in, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.hidden, cfg.hidden),
            nn.ReLU(), nn.Linear(cfg.hidden, d_out))
        if cfg.estimator == "regression":
            self.head = mlp(n_flat, cfg.n_params)
        elif cfg.estimator == "vae":
            self.posterior = nn.Linear(n_flat, 2 * cfg.latent_dim)  # (mean, log variance)
            self.decoder = mlp(cfg.latent_dim, cfg.n_mels * cfg.n_frames)
            self.head = mlp(cfg.latent_dim, cfg.n_params)
        else:
            self.context = nn.Sequential(nn.Linear(n_flat, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout))
            self.flow = zuko.flows.NSF(cfg.n_params, context=cfg.hidden, transforms=cfg.flow_transforms,
                                       hidden_features=(cfg.hidden, cfg.hidden))

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, n_mels, T) → (B, n_flat)
        return self.encoder(x.unsqueeze(1) if self.cfg.encoder == "cnn" else x)

    @torch.no_grad()
    def params(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, n_mels, T)`` → ``(B, n_params)`` in [0, 1]: the estimate (a flow's from seeded samples)."""
        h = self.features(x)
        if self.cfg.estimator == "regression":
            return torch.sigmoid(self.head(h))
        if self.cfg.estimator == "vae":
            return torch.sigmoid(self.head(self.posterior(h)[:, :self.cfg.latent_dim]))
        with torch.random.fork_rng(devices=[]):  # the same estimate every time, without touching training's RNG
            torch.manual_seed(0)
            return torch.sigmoid(self.flow(self.context(h)).sample((self.cfg.flow_samples,))).mean(dim=0)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, *, step: int | None = 0) -> dict:
        if cond is None or cond.ndim != 2 or cond.shape[1] != self.cfg.n_params:
            raise ParameterError(f"synth-estimator is trained on ({self.cfg.n_params},) patch vectors; got "
                                 f"{None if cond is None else tuple(cond.shape)}")
        target = cond.float() * self.cfg.target_std + self.cfg.target_mean  # (B, n_params) in the unit cube
        h = self.features(x)
        logs = {}
        if self.cfg.estimator == "regression":
            pred = torch.sigmoid(self.head(h))
            loss = F.mse_loss(pred, target)
        elif self.cfg.estimator == "vae":
            mean, logvar = self.posterior(h).chunk(2, dim=1)  # (B, latent_dim) each
            z = mean + torch.randn_like(mean) * (0.5 * logvar).exp() if self.training else mean
            pred = torch.sigmoid(self.head(z))
            logs["recon_mse"] = F.mse_loss(self.decoder(z).view_as(x), x)
            logs["kl"] = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
            loss = F.mse_loss(pred, target) + self.cfg.recon_weight * logs["recon_mse"] + self.cfg.beta * logs["kl"]
        else:  # the flow models the patch's logit; its Jacobian is a constant of the data, left out of the loss
            logit = torch.logit(target.clamp(1e-3, 1 - 1e-3))
            loss = -self.flow(self.context(h)).log_prob(logit).mean() / self.cfg.n_params
            return {"loss": loss, "nll": loss}  # no estimate here: sampling takes n_params passes per transform
        return {"loss": loss, **logs, "param_mse": F.mse_loss(pred, target), "param_mae": (pred - target).abs().mean()}
