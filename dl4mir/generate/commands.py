"""What ``dl4mir generate sample | interpolate | transfer`` do, as functions: load an exported generative model,
make spectrograms, render them to WAV files through Griffin-Lim, and draw one figure of what was made.

Input audio files may have any sample rate or channel count (resampled, mixed down) and are cut or zero-padded to
the model's 1.008 s (each cut is reported); unreadable files are reported together at the end, never skipped
silently.  Output files are named after what made them (condition, seed, inputs), and figures carry the same words
in their titles, so runs with other settings never overwrite each other.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dl4mir.audio import BatchResult, fit_to_length, safe_peak, save
from dl4mir.errors import ConfigError
from dl4mir.features.logmag import SPEC
from dl4mir.generate import latent
from dl4mir.models import GENERATIVE
from dl4mir.report import plots
from dl4mir.train.checkpoint import load_exported
from dl4mir.train.data import prepare


def load_generative(export_dir, *, families=GENERATIVE):
    """``(model, meta)`` of an export folder, refused unless the model is one of ``families``."""
    return load_exported(Path(export_dir), families=families, need="`dl4mir generate` needs one of these here")


def _condition(meta: dict, model, name: str | None, *, required: bool):
    conditional = bool(getattr(model.cfg, "n_classes", 0))
    if not conditional:
        if name is not None:
            raise ConfigError(f"this {meta['model']} is not conditional; leave out --condition")
        return None
    if name is None:
        if required:
            raise ConfigError(f"a conditional {meta['model']} needs --condition, one of: {', '.join(meta['classes'])}")
        return None
    if name not in meta["classes"]:
        raise ConfigError(f"unknown condition {name!r}; this model knows: {', '.join(meta['classes'])}")
    return meta["classes"].index(name)


def _write(out_dir: Path, names: list[str], X_std, meta: dict, *, n_iter: int, seed: int) -> tuple[list[Path], np.ndarray]:
    """Render standardized spectrograms to ``<name>.wav``, one name per spectrogram; returns the paths and the
    (peak-safe) audio."""
    raw = SPEC.to_audio(torch.from_numpy(latent.to_raw(X_std, meta["norm"])), n_iter=n_iter, seed=seed).numpy()
    audio = np.stack([safe_peak(y) for y in raw])
    return [save(out_dir / f"{name}.wav", y, sr=SPEC.sr) for name, y in zip(names, audio)], audio


def _figure(path: Path, X_std, titles, meta: dict, *, title: str) -> Path:
    return plots.image_panels(path, [(t, latent.to_raw(x, meta["norm"]), "frequency (Hz)")
                                     for t, x in zip(titles, X_std)],
                              ncols=min(4, len(titles)), title=title, extent=SPEC.extent)


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in str(text)).strip("-") or "x"


def _inputs(paths) -> tuple[np.ndarray, list[str], BatchResult, list[str]]:
    """Log-magnitudes of the readable files, their paths, the failures, and a notice for each file that was cut
    or padded to the model's length."""
    result, ok, names, notices = BatchResult(), [], [], []
    for p, y, _ in result.each_loaded(paths, sr=SPEC.sr, mono=True):
        if len(y) > SPEC.n_samples:
            notices.append(f"{p}: {len(y) / SPEC.sr:.2f} s long; only its first {SPEC.duration_s:.3f} s is used "
                           "(the model's length)")
        elif len(y) < 0.9 * SPEC.n_samples:  # a few missing milliseconds of tail are not worth a notice
            notices.append(f"{p}: {len(y) / SPEC.sr:.2f} s long; zero-padded to the model's {SPEC.duration_s:.3f} s")
        ok.append(fit_to_length(y, length=SPEC.n_samples))
        names.append(p)
    logmag = SPEC.from_audio(np.stack(ok)).numpy() if ok else np.empty((0, SPEC.n_freq, SPEC.n_frames), np.float32)
    return logmag, names, result, notices


def sample(export_dir, out_dir, *, n: int = 4, condition: str | None = None, seed: int = 0, n_iter: int = 64) -> dict:
    """``n`` samples from the prior (VAE, CVAE) or the generator (GAN) → WAVs and ``samples.png``."""
    model, meta = load_generative(export_dir)
    if not hasattr(model, "sample"):
        raise ConfigError(f"a {meta['model']} has no prior to sample from; use a VAE, CVAE or GAN "
                          "(an autoencoder can interpolate and transfer)")
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    c = _condition(meta, model, condition, required=True)
    X = latent.sample_prior(model, n, c, seed=seed)
    out_dir = Path(out_dir)
    what = f"{slug(condition) if condition else 'prior'}_seed{seed}"
    files, _ = _write(out_dir, [f"sample_{what}_{i:02d}" for i in range(n)], X, meta, n_iter=n_iter, seed=seed)
    fig = _figure(out_dir / f"samples_{what}.png", X, [f"sample {i}" for i in range(n)], meta,
                  title=f"{meta['model']} samples" + (f" asked for {condition}" if condition else "") + f", seed {seed}")
    return {"files": files, "figure": fig, "notices": []}


def interpolate(export_dir, path_a, path_b, out_dir, *, steps: int = 8, condition: str | None = None,
                method: str = "linear", n_iter: int = 64) -> dict:
    """Encode two audio files, decode ``steps`` points on the path between their codes → WAVs (one per step and
    the whole path) and ``interpolation.png``."""
    model, meta = load_generative(export_dir)
    if not hasattr(model, "encode"):
        raise ConfigError("a GAN has no encoder, so it cannot interpolate between given sounds; use an AE or VAE")
    c = _condition(meta, model, condition, required=True)
    logmag, names, result, notices = _inputs([path_a, path_b])
    result.raise_if_failed()
    X = latent.from_raw(logmag, meta["norm"])
    _, path = latent.interpolate(model, X[0], X[1], steps=steps, cond=c, method=method)
    out_dir = Path(out_dir)
    what = f"{slug(Path(path_a).stem)}_to_{slug(Path(path_b).stem)}_{method}" + (f"_{slug(condition)}" if condition else "")
    files, audio = _write(out_dir, [f"{what}_step{i:02d}" for i in range(steps)], path, meta, n_iter=n_iter, seed=0)
    files.append(save(out_dir / f"{what}.wav", np.concatenate(list(audio)), sr=SPEC.sr))
    fig = _figure(out_dir / f"{what}.png", path, [f"t = {t:.2f}" for t in np.linspace(0, 1, steps)], meta,
                  title=f"{Path(path_a).name} → {Path(path_b).name} ({method}"
                        + (f", as {condition})" if condition else ")"))
    return {"files": files, "figure": fig, "notices": notices}


def transfer(export_dir, paths, out_dir, *, source: str, target: str, alpha: float = 1.0, data: str | None = None,
             profile: str = "default", n_iter: int = 64) -> dict:
    """Move sounds from one class to another (e.g. clean → chorus).

    A conditional VAE encodes with ``source`` and decodes with ``target``; an unconditional AE/VAE adds ``alpha``
    times the attribute vector ``mean(code | target) − mean(code | source)`` computed on the training clips of the
    dataset the model was trained on (or ``data``).
    """
    model, meta = load_generative(export_dir)
    if not hasattr(model, "encode"):
        raise ConfigError("a GAN has no encoder; transfer needs an AE, VAE or CVAE")
    logmag, names, result, notices = _inputs(paths)
    if names:
        X = latent.from_raw(logmag, meta["norm"])
        if getattr(model.cfg, "n_classes", 0):
            cs, ct = (_condition(meta, model, s, required=True) for s in (source, target))
            moved = latent.decode(model, latent.encode(model, X, cs), ct)
        else:
            ref = prepare(meta["task"], input_kind="logmag", data=data, profile=profile)
            rows = ref.rows("train")
            label = ref.task.label
            vector = latent.attribute_vector(latent.encode(model, ref.X[rows].numpy()), ref.labels[label][rows],
                                             source=source, target=target)
            moved = latent.apply_attribute(model, X, vector, alpha=alpha)
        out_dir = Path(out_dir)
        what = f"{slug(source)}_to_{slug(target)}" + (f"_alpha{alpha:g}" if not getattr(model.cfg, "n_classes", 0)
                                                        else "")
        outputs = [f"{slug(Path(n).stem)}_{what}" for n in names]
        result.ok = dict(zip(names, _write(out_dir, outputs, moved, meta, n_iter=n_iter, seed=0)[0]))
        _figure(out_dir / f"transfer_{what}.png", np.concatenate([X[:4], moved[:4]]),
                [f"in: {Path(n).name}" for n in names[:4]] + [f"→ {target}" for n in names[:4]], meta,
                title=f"{source} → {target}")
    return {"result": result, "notices": notices}
