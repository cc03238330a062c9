"""RAVE: a variational autoencoder on raw waveforms, fast enough to run live (Caillon & Esling 2021), in dl4mir's
own words.  ``x (B, 1, T)`` → 16 PQMF bands → encoder → ``z (B, latent_dim, T / 2048)`` → decoder → bands → audio.

* **Multiband**: :class:`~dl4mir.models.pqmf.PQMF` splits the waveform into ``n_bands`` critically sampled bands,
  so every convolution runs at ``sample_rate / n_bands`` and the network sees 16 short signals, not one long one.
* **Encoder**: residual blocks of dilated convolutions (dilations 1, 3, 9) and strided convolutions down to one
  latent frame per ``n_bands · prod(ratios)`` samples (2048 by default: 21.5 frames/s at 44.1 kHz); it outputs the
  mean and scale of a Gaussian posterior ``q(z|x)``.
* **Decoder**: the mirror image, upsampling by *sub-pixel* convolutions (a convolution makes ``r`` times the
  channels, which are then laid side by side in time) — no transposed-convolution overlap, so a block needs no
  look-ahead to stream.  Three heads at the band rate, as RAVE's generator: a waveform per band, an amplitude
  envelope that multiplies it (silence is easy to say), and filtered noise (a zero-phase filter per noise frame on
  white noise: breath, bow and pick noise that a deterministic waveform cannot hold).
* **Phase 1** (``step < phase1_steps``): multi-scale spectral distance (auraloss's multi-resolution STFT loss:
  spectral convergence + log-magnitude L1 at FFT sizes ``scales``) + ``β_t``·KL, ``β_t`` rising from 0 over
  ``warmup_steps``.  **Phase 2**: the encoder is frozen and a multi-scale waveform discriminator (MelGAN's) joins:
  hinge loss and feature matching push the decoder from a blurry spectral average to a plausible waveform.  The one
  training loop minimizes one scalar, so, as in :mod:`dl4mir.models.gan`, ``L_D`` sees the output detached and
  ``L_G`` is computed with the discriminator frozen; the phase is a function of the step counter, which the loop
  checkpoints, so a run resumed in either phase continues exactly.
* **Causal** (``causal=True``): every convolution looks only at the past; with :meth:`RAVE.set_streaming` each
  keeps the last frames of its input, so audio fed block by block (2048 samples at a time) gives the same output as
  fed whole.  The price is latency: the PQMF's delay plus one block.
* **Fidelity**: after training, :meth:`RAVE.after_training` fits a PCA of the posterior means (RAVE's latent
  compression); ``fidelity(0.95)`` says how many of its dimensions keep 95 % of the variance, and
  ``reconstruct(x, n_dims=k)`` decodes with only those.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import auraloss
import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from dl4mir.errors import ParameterError
from dl4mir.models.pqmf import PQMF, CausalPad


@dataclass
class RAVEConfig:
    sample_rate: int = 16000
    n_bands: int = 16
    capacity: int = 16  # channels at the band rate
    multipliers: tuple[int, ...] = (1, 2, 4, 4)  # channels = capacity · multiplier before each downsampling
    ratios: tuple[int, ...] = (4, 4, 4, 2)  # downsampling after the PQMF: 16 · 128 = 2048 samples per latent frame
    latent_dim: int = 16
    dilations: tuple[int, ...] = (1, 3, 9)
    noise_hop: int = 8  # band samples per noise-filter frame
    noise_bins: int = 5  # filter magnitudes per band and noise frame
    causal: bool = True
    crop_samples: int = 8192  # training crop; a multiple of the block size
    beta: float = 0.001
    warmup_steps: int = 1000  # β_t rises from 0 to β over these steps
    phase1_steps: int = 3000  # then the encoder freezes and the discriminator joins
    scales: tuple[int, ...] = (1024, 512, 256, 128)  # FFT sizes of the spectral distance
    d_capacity: int = 4  # discriminator channels at its first layer
    d_scales: int = 3  # discriminators on the waveform at 1, 1/2, 1/4 of the sample rate
    feature_matching: float = 10.0
    adversarial: float = 1.0


class Conv(nn.Module):
    """A 1-D convolution, causal or centred; a causal one streams through its :class:`CausalPad`."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, *, stride: int = 1, dilation: int = 1,
                 causal: bool = True):
        super().__init__()
        conv = nn.Conv1d(c_in, c_out, kernel_size, stride=stride, dilation=dilation)
        # variance-preserving weights (He et al. for LeakyReLU 0.2) and zero biases: audio bands are quiet (RMS
        # ~0.03); with torch's defaults each layer shrinks them and its biases drown them, and the encoder's output
        # hardly depended on its input (measured: z's spread over a batch 3e-5 of its spread over time)
        nn.init.kaiming_normal_(conv.weight, a=0.2)
        nn.init.zeros_(conv.bias)
        self.conv = weight_norm(conv)
        self.context = CausalPad(c_in, (kernel_size - 1) * dilation + 1 - stride, causal=causal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.context(x))


class Residual(nn.Module):
    """``x + f(x)`` with ``f`` = LeakyReLU → dilated conv → LeakyReLU → 1×1 conv, for each dilation in turn."""

    def __init__(self, channels: int, dilations, causal: bool):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Sequential(nn.LeakyReLU(0.2), Conv(channels, channels, 3, dilation=d, causal=causal),
                                                  nn.LeakyReLU(0.2), Conv(channels, channels, 1, causal=causal))
                                    for d in dilations)
        for block in self.blocks:  # each branch starts small, so a stack of them starts near the identity
            with torch.no_grad():
                block[-1].conv.parametrizations.weight.original0.mul_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = x + block(x)
        return x


class Encoder(nn.Module):
    def __init__(self, cfg: RAVEConfig):
        super().__init__()
        chans = [cfg.capacity * m for m in cfg.multipliers] + [cfg.capacity * cfg.multipliers[-1]]
        layers = [Conv(cfg.n_bands, chans[0], 7, causal=cfg.causal)]
        for r, a, b in zip(cfg.ratios, chans[:-1], chans[1:]):
            layers += [Residual(a, cfg.dilations, cfg.causal), nn.LeakyReLU(0.2),
                       Conv(a, b, 2 * r, stride=r, causal=cfg.causal)]
        layers += [nn.LeakyReLU(0.2), Conv(chans[-1], 2 * cfg.latent_dim, 3, causal=cfg.causal)]
        self.net = nn.Sequential(*layers)
        # the posterior starts narrow (σ ≈ 0.02): quiet audio makes small means at first, and a unit-width posterior
        # would bury them in sampling noise, teaching the decoder to ignore z before the encoder can speak up
        with torch.no_grad():
            layers[-1].conv.bias[cfg.latent_dim:] = -4.0

    def forward(self, bands: torch.Tensor) -> torch.Tensor:
        return self.net(bands)  # (B, 2·latent, T / (n_bands · prod(ratios))): posterior mean and scale


class Upsample(nn.Module):
    """Sub-pixel upsampling: a convolution makes ``ratio`` frames' channels per frame, laid out in time."""

    def __init__(self, c_in: int, c_out: int, ratio: int, causal: bool):
        super().__init__()
        self.ratio, self.c_out = ratio, c_out
        self.conv = Conv(c_in, c_out * ratio, 3, causal=causal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, T = x.shape
        h = self.conv(x).reshape(B, self.c_out, self.ratio, T)  # (B, C, r, T)
        return h.permute(0, 1, 3, 2).reshape(B, self.c_out, T * self.ratio)


class Decoder(nn.Module):
    def __init__(self, cfg: RAVEConfig):
        super().__init__()
        self.n_bands, self.noise_hop, self.noise_bins = cfg.n_bands, cfg.noise_hop, cfg.noise_bins
        chans = [cfg.capacity * m for m in cfg.multipliers]
        top = cfg.capacity * cfg.multipliers[-1]
        layers = [Conv(cfg.latent_dim, top, 3, causal=cfg.causal)]
        c_in = top
        for r, c in zip(reversed(cfg.ratios), reversed(chans)):
            layers += [nn.LeakyReLU(0.2), Upsample(c_in, c, r, cfg.causal), Residual(c, cfg.dilations, cfg.causal)]
            c_in = c
        layers.append(nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*layers)
        M = cfg.n_bands
        self.wave = Conv(c_in, M, 3, causal=cfg.causal)
        self.amplitude = Conv(c_in, M, 3, causal=cfg.causal)
        self.noise = Conv(c_in, M * cfg.noise_bins, cfg.noise_hop, stride=cfg.noise_hop, causal=cfg.causal)
        # linear interpolation of noise_bins magnitudes onto the rfft bins of one noise frame
        n_fft_bins = cfg.noise_hop // 2 + 1
        grid = np.linspace(0, cfg.noise_bins - 1, n_fft_bins)
        lo = np.minimum(np.floor(grid).astype(int), cfg.noise_bins - 2)
        interp = np.zeros((cfg.noise_bins, n_fft_bins), dtype=np.float32)
        interp[lo, np.arange(n_fft_bins)] = 1 - (grid - lo)
        interp[lo + 1, np.arange(n_fft_bins)] = grid - lo
        self.register_buffer("noise_interp", torch.from_numpy(interp))

    def forward(self, z: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """``z (B, latent, F)`` → bands ``(B, n_bands, F · prod(ratios))``.  ``noise``: the white noise
        ``(B, n_bands, T)`` to filter (drawn when ``None``; given, it makes the output repeatable)."""
        h = self.net(z)
        B, _, T = h.shape
        M, hop = self.n_bands, self.noise_hop
        bands = torch.tanh(self.wave(h)) * torch.sigmoid(self.amplitude(h))
        gains = torch.sigmoid(self.noise(h) - 5.0).reshape(B, M, self.noise_bins, T // hop)  # quiet at start
        response = torch.einsum("bmkf,kn->bmfn", gains, self.noise_interp.to(gains.dtype))  # (B, M, F, hop/2 + 1)
        if noise is None:
            noise = torch.randn(B, M, T, dtype=h.dtype, device=h.device)
        frames = torch.fft.rfft(noise.reshape(B, M, T // hop, hop).float(), dim=-1)
        filtered = torch.fft.irfft(frames * response.float(), n=hop, dim=-1).reshape(B, M, T)
        return bands + filtered.to(bands.dtype)


class Discriminator(nn.Module):
    """MelGAN's multi-scale discriminator (Kumar et al. 2019): the same strided, grouped convolution stack on the
    waveform at 1, 1/2, 1/4 … of the sample rate; returns every layer's features (for feature matching), the last
    being the score map."""

    def __init__(self, cfg: RAVEConfig):
        super().__init__()
        d = cfg.d_capacity

        def stack():
            spec = [(1, d, 15, 1, 1), (d, 4 * d, 41, 4, 4), (4 * d, 16 * d, 41, 4, 16), (16 * d, 16 * d, 5, 1, 1),
                    (16 * d, 1, 3, 1, 1)]
            return nn.ModuleList(weight_norm(nn.Conv1d(a, b, k, stride=s, padding=k // 2, groups=min(g, a)))
                                 for a, b, k, s, g in spec)

        self.scales = nn.ModuleList(stack() for _ in range(cfg.d_scales))

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        out, h0 = [], x
        for i, layers in enumerate(self.scales):
            if i:  # half the rate of the scale before
                h0 = nn.functional.avg_pool1d(h0, 4, stride=2, padding=1, count_include_pad=False)
            h, feats = h0, []
            for j, layer in enumerate(layers):
                h = layer(h)
                if j < len(layers) - 1:
                    h = nn.functional.leaky_relu(h, 0.2)
                feats.append(h)
            out.append(feats)
        return out


CONFIGS = Path(__file__).parent / "configs"  # rave-small.toml (the lesson's, and the default), rave-v2.toml


class RAVE(nn.Module):
    input_kind = "audio"
    default_task = "audio"
    default_config = CONFIGS / "rave-small.toml"
    val_metric = None  # phase 2 trades spectral distance for realism: keep the last epoch, not the "best" one
    betas = (0.5, 0.9)

    def __init__(self, cfg: RAVEConfig):
        super().__init__()
        self.cfg = cfg
        self.block_size = cfg.n_bands * math.prod(cfg.ratios)
        if cfg.crop_samples % self.block_size:
            raise ParameterError(f"RAVE crop_samples {cfg.crop_samples} is not a multiple of the block size "
                                 f"{self.block_size} (n_bands · prod(ratios))")
        self.pqmf = PQMF(cfg.n_bands)
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.discriminator = Discriminator(cfg)
        self.spectral = auraloss.freq.MultiResolutionSTFTLoss(
            fft_sizes=list(cfg.scales), hop_sizes=[s // 4 for s in cfg.scales], win_lengths=list(cfg.scales))
        # RAVE's latent compression, fitted by after_training(): z ≈ mean + components[:k]ᵀ · scores[:k]
        self.register_buffer("latent_mean", torch.zeros(cfg.latent_dim))
        self.register_buffer("latent_components", torch.eye(cfg.latent_dim))
        self.register_buffer("explained_variance_ratio", torch.full((cfg.latent_dim,), 1.0 / cfg.latent_dim))
        self.register_buffer("latent_std", torch.ones(cfg.latent_dim))  # of each component's scores

    def param_groups(self, lr: float) -> list[dict]:
        return [{"params": list(self.encoder.parameters()) + list(self.decoder.parameters()), "lr": lr},
                {"params": list(self.discriminator.parameters()), "lr": lr}]

    # -- the autoencoder ------------------------------------------------------------------------------------------
    def _check(self, x: torch.Tensor) -> torch.Tensor:
        x = x.unsqueeze(1) if x.dim() == 2 else x
        if x.shape[-1] % self.block_size:
            raise ParameterError(f"RAVE: {x.shape[-1]} samples is not a multiple of the block size {self.block_size}")
        return x

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of ``q(z|x)``, each ``(B, latent_dim, T / block_size)``."""
        mean, scale = self.encoder(self.pqmf.analysis(self._check(x))).chunk(2, dim=1)
        return mean, nn.functional.softplus(scale) + 1e-4

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, latent_dim, F)`` → ``(B, 1, F · block_size)``, delayed by the PQMF's :attr:`delay`."""
        return self.pqmf.synthesis(self.decoder(z, noise))

    @property
    def delay(self) -> int:
        """Samples between an input and its reconstruction (the filter bank's latency)."""
        return self.pqmf.delay

    def encode_signal(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, T)`` or ``(B, 1, T)``, any length → posterior means covering it, zero-padded so that
        :meth:`decode_signal` can return all ``T`` samples past the filter bank's delay."""
        x = x.unsqueeze(1) if x.dim() == 2 else x
        T = x.shape[-1]
        return self.encode(nn.functional.pad(x, (0, -(-(T + self.delay) // self.block_size) * self.block_size - T)))

    def decode_signal(self, z: torch.Tensor, length: int) -> torch.Tensor:
        """The ``length`` samples ``z`` decodes to, aligned with the signal :meth:`encode_signal` encoded."""
        return self.decode(z)[..., self.delay:self.delay + length]

    def reconstruct(self, x: torch.Tensor, *, n_dims: int | None = None) -> torch.Tensor:
        """``x (B, T)`` or ``(B, 1, T)``, any length → its reconstruction ``(B, 1, T)``, aligned with ``x``;
        ``n_dims``: decode only the first principal components of the latent space (:meth:`fidelity`)."""
        z = self.encode_signal(x)
        return self.decode_signal(z if n_dims is None else self.project(z, n_dims), x.shape[-1])

    def project(self, z: torch.Tensor, n_dims: int) -> torch.Tensor:
        """``z`` with only its first ``n_dims`` principal components (the others set to the mean)."""
        if not 1 <= n_dims <= self.cfg.latent_dim:
            raise ParameterError(f"RAVE keeps 1 to {self.cfg.latent_dim} latent dimensions, not {n_dims}")
        P = self.latent_components[:n_dims]  # (k, latent)
        centred = z - self.latent_mean[:, None]
        return self.latent_mean[:, None] + torch.einsum("kl,bkf->blf", P, torch.einsum("kl,blf->bkf", P, centred))

    def fidelity(self, share: float) -> int:
        """How many principal components of the latent space keep ``share`` of its variance."""
        cumulative = torch.cumsum(self.explained_variance_ratio, 0)
        return int(min(int((cumulative < share - 1e-9).sum()) + 1, self.cfg.latent_dim))

    @torch.no_grad()
    def after_training(self, data, device) -> None:
        """Fit the latent PCA on the posterior means of (at most 256) training crops."""
        rows = data.rows("train")[:256]
        means = []
        for i in range(0, len(rows), 32):
            x, _ = data.batch(rows[i:i + 32])
            means.append(self.encode(x.to(device)).transpose(1, 2).reshape(-1, self.cfg.latent_dim).double())
        Z = torch.cat(means)
        mean = Z.mean(0)
        _, s, vt = torch.linalg.svd(Z - mean, full_matrices=False)
        var = s ** 2
        self.latent_mean.copy_(mean.float())
        self.latent_components.copy_(vt.float())
        self.explained_variance_ratio.copy_((var / var.sum().clamp_min(1e-30)).float())
        self.latent_std.copy_((s / max(len(Z) - 1, 1) ** 0.5).float())

    def sample(self, n: int, n_frames: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` sounds of ``n_frames · block_size`` samples from the prior ``z ~ N(0, I)``: ``(n, T)``."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.cfg.latent_dim, n_frames, generator=generator).to(device)
        return self.decode(z)[:, 0]

    def set_streaming(self, on: bool) -> None:
        """Process audio block by block (causal models only); turning it on or off forgets the past."""
        if on and not self.cfg.causal:
            raise ParameterError("only a causal RAVE (causal = true) can stream")
        for m in self.modules():
            if isinstance(m, CausalPad):
                m.streaming = on
                m.reset()

    # -- the objective --------------------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, y=None, *, step: int | None = 0) -> dict:
        """The training objective; ``step=None`` (validation) scores phase 1's reconstruction terms."""
        x = self._check(x)
        phase2 = step is not None and step >= self.cfg.phase1_steps
        with torch.set_grad_enabled(torch.is_grad_enabled() and not phase2):  # phase 2: the encoder is frozen
            mean, std = self.posterior(x)
        z = mean + std * torch.randn_like(std)
        kl = 0.5 * (mean ** 2 + std ** 2 - 2 * torch.log(std) - 1).sum(1).mean()
        d = self.delay
        target, out = x[..., :x.shape[-1] - d], self.decode(z)[..., d:]
        spectral = self.spectral(out.float(), target.float())
        beta_t = self.cfg.beta * (1.0 if step is None else min(1.0, step / max(self.cfg.warmup_steps, 1)))
        logs = {"spectral": spectral, "kl": kl, "beta_t": torch.tensor(beta_t)}
        if not phase2:
            return {"loss": spectral + beta_t * kl, **logs}
        D = self.discriminator
        real, fake = D(target), D(out.detach())
        loss_d = sum(torch.relu(1 - r[-1]).mean() + torch.relu(1 + f[-1]).mean() for r, f in zip(real, fake))
        D.requires_grad_(False)  # the generator's losses must not move the discriminator
        fake = D(out)
        D.requires_grad_(True)
        adversarial = sum(-f[-1].mean() for f in fake)
        matching = sum(sum((fr - rr.detach()).abs().mean() for fr, rr in zip(f[:-1], r[:-1])) / (len(f) - 1)
                       for r, f in zip(real, fake))
        loss_g = spectral + self.cfg.adversarial * adversarial + self.cfg.feature_matching * matching
        return {"loss": loss_d + loss_g, **logs, "loss_d": loss_d, "adversarial": adversarial,
                "feature_matching": matching}


class Live(nn.Module):
    """A trained causal RAVE in the form realtime hosts load (nn~, neutone): ``encode``, ``decode`` and
    ``forward`` on blocks of ``block_size`` samples, streaming (each call continues the last), with the latent
    space cut to its first ``n_latents`` principal components.  Weight normalization is folded into the weights
    and the discriminator left behind, so the module needs nothing but torch."""

    def __init__(self, model: RAVE, n_latents: int | None = None):
        super().__init__()
        if not model.cfg.causal:
            raise ParameterError("only a causal RAVE (causal = true) can be exported for streaming")
        # a fresh copy: a deep copy would share the parametrized classes, and removing weight normalization from
        # it would break the original
        state = model.state_dict()
        model = RAVE(model.cfg).eval()
        model.load_state_dict(state)
        for module in model.modules():
            if parametrize.is_parametrized(module):
                parametrize.remove_parametrizations(module, "weight")
        model.set_streaming(True)
        self.pqmf, self.encoder, self.decoder = model.pqmf, model.encoder, model.decoder
        n = n_latents or model.fidelity(0.99)
        if not 1 <= n <= model.cfg.latent_dim:
            raise ParameterError(f"RAVE keeps 1 to {model.cfg.latent_dim} latent dimensions, not {n}")
        self.sample_rate, self.block_size, self.n_latents = int(model.cfg.sample_rate), int(model.block_size), int(n)
        self.delay = int(model.delay)
        self.register_buffer("latent_mean", model.latent_mean.clone())
        self.register_buffer("components", model.latent_components[:n].clone())  # (n_latents, latent_dim)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1, k · block_size)`` → ``(B, n_latents, k)``: the posterior means' principal components."""
        mean = self.encoder(self.pqmf.analysis(x)).chunk(2, dim=1)[0]
        return torch.einsum("kl,blf->bkf", self.components, mean - self.latent_mean[:, None])

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, n_latents, k)`` → ``(B, 1, k · block_size)``."""
        full = self.latent_mean[:, None] + torch.einsum("kl,bkf->blf", self.components, z)
        return self.pqmf.synthesis(self.decoder(full, None))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def export_live(model: RAVE, out_dir: str | Path, *, n_latents: int | None = None) -> dict[str, Path]:
    """Write ``rave_live.ts`` (TorchScript, with ``encode``/``decode``/``forward`` and the attributes
    ``sample_rate``, ``block_size``, ``n_latents``, ``delay``) and ``rave_live.pt2`` (``torch.export`` of
    ``forward`` on one block; TorchScript is deprecated in torch 2.13 but is what today's hosts load)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    live = Live(model, n_latents)
    program = torch.export.export(copy.deepcopy(live), (torch.zeros(1, 1, live.block_size),))
    paths = {"torchscript": out_dir / "rave_live.ts", "export": out_dir / "rave_live.pt2"}
    torch.jit.script(live).save(str(paths["torchscript"]))
    torch.export.save(program, str(paths["export"]))
    return paths
