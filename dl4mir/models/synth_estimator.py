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

**Multi-task ASP** (Faronbi et al. 2023): one model for every synth of ``synth-params`` (targets: the synth's index,
then its patch padded with zeros to the longest synth's length).  ``multi_task`` chooses the design:

- ``"separate-separate"`` (their baseline): one encoder and one head per synth in one module — the single-synth
  models, trained side by side on the same batches.
- ``"joint-separate"``: one encoder for every synth, one head per synth; a note's loss reaches only its synth's
  head (their per-decoder masks).
- ``"joint-joint"``: one encoder, one head whose output is as long as the longest patch; a note's loss counts only
  its synth's parameters (the padding is masked), and its synth reads the first ``n`` outputs.

Which synth made a note is known at inference (the user chooses the synth to program), as in the paper.  Multi-task
designs are regressions (``estimator="regression"``).

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
MULTI_TASK = ("none", "separate-separate", "joint-separate", "joint-joint")


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
    multi_task: str = "none"  # or one of MULTI_TASK's designs, on the task synth-params (see the module's docstring)
    synths: tuple[str, ...] = ()  # multi-task: the synths, in the order of the targets' synth index (the data says)
    synth_n_params: tuple[int, ...] = ()  # multi-task: each synth's parameter count (the data says)


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
        if cfg.multi_task not in MULTI_TASK:
            raise ParameterError(f"synth-estimator multi_task {cfg.multi_task!r}: use one of {', '.join(MULTI_TASK)}")
        if cfg.multi_task != "none" and not cfg.synths:
            raise ParameterError(f"multi-task design {cfg.multi_task!r} learns every synth at once: train it on the "
                                 "task synth-params (dl4mir train synth-estimator --multi-task ... --task synth-params)")
        if cfg.synths and cfg.multi_task == "none":
            raise ParameterError("the task synth-params holds every synth's patches: choose a multi-task design, "
                                 f"--multi-task {'|'.join(MULTI_TASK[1:])} (or train one synth: --task fm-params)")
        if cfg.multi_task != "none" and cfg.estimator != "regression":
            raise ParameterError(f"the multi-task designs are regressions, not {cfg.estimator!r} estimators")
        if len(cfg.synth_n_params) != len(cfg.synths) or any(n > cfg.n_params for n in cfg.synth_n_params):
            raise ParameterError(f"synth_n_params {cfg.synth_n_params} must give each of {cfg.synths} a count "
                                 f"<= n_params {cfg.n_params}")
        self.val_metric = "nll" if cfg.estimator == "flow" else "param_mse"  # a flow's estimate costs sampling
        self.ddp_unused_parameters = cfg.multi_task in ("separate-separate", "joint-separate")  # a batch may miss a synth
        encoder, n_flat = self._encoder()
        mlp = lambda d_in, d_out: nn.Sequential(  # noqa: E731
            nn.Linear(d_in, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.hidden, cfg.hidden),
            nn.ReLU(), nn.Linear(cfg.hidden, d_out))
        if cfg.multi_task == "separate-separate":
            self.encoders = nn.ModuleList([encoder, *(self._encoder()[0] for _ in cfg.synths[1:])])
        else:
            self.encoder = encoder
        if cfg.multi_task in ("separate-separate", "joint-separate"):
            self.heads = nn.ModuleList([mlp(n_flat, n) for n in cfg.synth_n_params])
        elif cfg.estimator == "regression":
            self.head = mlp(n_flat, cfg.n_params)
        elif cfg.estimator == "vae":
            self.posterior = nn.Linear(n_flat, 2 * cfg.latent_dim)  # (mean, log variance)
            self.decoder = mlp(cfg.latent_dim, cfg.n_mels * cfg.n_frames)
            self.head = mlp(cfg.latent_dim, cfg.n_params)
        else:
            self.context = nn.Sequential(nn.Linear(n_flat, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout))
            self.flow = zuko.flows.NSF(cfg.n_params, context=cfg.hidden, transforms=cfg.flow_transforms,
                                       hidden_features=(cfg.hidden, cfg.hidden))

    def _encoder(self) -> tuple[nn.Module, int]:
        """A log-mel encoder and its output size."""
        cfg = self.cfg
        if cfg.encoder == "mlp":
            return nn.Flatten(), cfg.n_mels * cfg.n_frames
        blocks, c_in = [], 1
        for c in cfg.channels:
            blocks += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        shrink = 2 ** len(cfg.channels)
        return nn.Sequential(*blocks, nn.Flatten()), c_in * (cfg.n_mels // shrink) * (cfg.n_frames // shrink)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, n_mels, T) → (B, n_flat)
        return self.encoder(x.unsqueeze(1) if self.cfg.encoder == "cnn" else x)

    def _multi(self, x: torch.Tensor, synth: torch.Tensor) -> torch.Tensor:
        """``(B, n_mels, T)``, synth indices ``(B,)`` → ``(B, n_params)`` in [0, 1], each row's synth's parameters
        first, the rest zeros."""
        cfg = self.cfg
        x = x.unsqueeze(1) if cfg.encoder == "cnn" else x
        if cfg.multi_task == "joint-joint":
            n = torch.tensor(cfg.synth_n_params, device=x.device)[synth]  # (B,)
            keep = torch.arange(cfg.n_params, device=x.device) < n[:, None]
            return torch.sigmoid(self.head(self.encoder(x))) * keep
        h = self.encoder(x) if cfg.multi_task == "joint-separate" else None
        out = x.new_zeros(len(x), cfg.n_params)
        for k, n in enumerate(cfg.synth_n_params):
            rows = (synth == k).nonzero().squeeze(1)
            if len(rows):
                feats = h[rows] if h is not None else self.encoders[k](x[rows])
                out[rows, :n] = torch.sigmoid(self.heads[k](feats))
        return out

    @torch.no_grad()
    def params(self, x: torch.Tensor, synth: str | None = None) -> torch.Tensor:
        """``(B, n_mels, T)`` → ``(B, n_params)`` in [0, 1]: the estimate (a flow's from seeded samples); a
        multi-task model's for ``synth`` (required), ``(B, that synth's n_params)``."""
        if self.cfg.multi_task != "none":
            if synth not in self.cfg.synths:
                raise ParameterError(f"this estimator programs {', '.join(self.cfg.synths)}: say which "
                                     f"(got {synth!r})")
            k = list(self.cfg.synths).index(synth)
            return self._multi(x, torch.full((len(x),), k, device=x.device))[:, :self.cfg.synth_n_params[k]]
        h = self.features(x)
        if self.cfg.estimator == "regression":
            return torch.sigmoid(self.head(h))
        if self.cfg.estimator == "vae":
            return torch.sigmoid(self.head(self.posterior(h)[:, :self.cfg.latent_dim]))
        with torch.random.fork_rng(devices=[]):  # the same estimate every time, without touching training's RNG
            torch.manual_seed(0)
            return torch.sigmoid(self.flow(self.context(h)).sample((self.cfg.flow_samples,))).mean(dim=0)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, *, step: int | None = 0) -> dict:
        multi = self.cfg.multi_task != "none"
        width = self.cfg.n_params + multi  # a multi-task target starts with its synth's index
        if cond is None or cond.ndim != 2 or cond.shape[1] != width:
            raise ParameterError(f"synth-estimator is trained on ({width},) patch vectors; got "
                                 f"{None if cond is None else tuple(cond.shape)}")
        if multi:
            return self._multi_loss(x, cond)
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

    def _multi_loss(self, x: torch.Tensor, cond: torch.Tensor) -> dict:
        """Squared error over each note's own synth's parameters only (padding and the other synths' heads get no
        gradient from it): each note's mean, then the batch's, so every note counts once, as in the single-synth
        models (an FM patch's 36 parameters do not outweigh a harmonic-plus-noise patch's 8)."""
        synth, target = cond[:, 0].round().long(), cond[:, 1:].float()  # (B,), (B, n_params) zero-padded
        n = torch.tensor(self.cfg.synth_n_params, device=x.device)[synth]  # (B,)
        keep = torch.arange(self.cfg.n_params, device=x.device) < n[:, None]
        err = (self._multi(x, synth) - target) * keep
        mse = (err.pow(2).sum(dim=1) / n).mean()
        return {"loss": mse, "param_mse": mse, "param_mae": (err.abs().sum(dim=1) / n).mean()}
