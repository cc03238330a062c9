"""Lesson 2: audio features — the MFCC pipeline step by step, spectral features, and which ones separate
instruments (Fisher ratio per feature, linear-probe accuracy per feature group under the official folds)."""
from __future__ import annotations

import numpy as np

from dl4mir.classic import SoftmaxRegression, cross_validate
from dl4mir.data.splits import default_split
from dl4mir.features import spectral as F
from dl4mir.features.cache import stats_feature_names
from dl4mir.report import plots


def fisher_ratio(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Between-class over within-class variance, per column: how well one feature alone separates the classes."""
    classes = np.unique(y)
    mu = X.mean(axis=0)
    between = sum(np.sum(y == c) * (X[y == c].mean(axis=0) - mu) ** 2 for c in classes)
    within = sum(((X[y == c] - X[y == c].mean(axis=0)) ** 2).sum(axis=0) for c in classes)
    return between / np.maximum(within, 1e-12)


HEADLINE = {"probe_spectral_shape": "linear-probe accuracy: spectral shape (mean over folds)",
            "probe_zcr_rms": "linear-probe accuracy: zero-crossing rate + RMS",
            "probe_mfcc": "linear-probe accuracy: MFCC", "probe_all": "linear-probe accuracy: all features",
            "best_single_feature": "best single feature (Fisher ratio)"}
GROUP_KEYS = {"spectral shape": "probe_spectral_shape", "zcr + rms": "probe_zcr_rms", "MFCC": "probe_mfcc",
              "all": "probe_all"}


def mfcc_steps_figure(ctx, clip, name):
    """The MFCC pipeline of one clip, step by step: power spectrum → mel power → MFCC."""
    y, sr = clip.load()
    steps = F.mfcc_steps(y=y, sr=sr, n_fft=1024, hop_length=256, n_mels=64, n_mfcc=20)
    plots.image_panels(ctx.figure(name, f"MFCC step by step for {clip.clip_id}: |STFT|² → mel filters → log → DCT"),
                       [("power spectrum (dB)", F.power_to_db(steps["power"]), "frequency bin"),
                        ("mel power (dB)", steps["log_mel"], "mel band"),
                        ("MFCC", steps["mfcc"][1:], "coefficient (c1…)")], ncols=3, title=clip.clip_id)
    ctx.wav(name, y, sr, f"{clip.clip_id}, the note of the MFCC figure")


def feature_groups(names: list[str]) -> dict[str, list[str]]:
    return {
        "spectral shape": [n for n in names if n.split("_")[0] in ("centroid", "bandwidth", "rolloff", "flatness",
                                                                    "contrast")],
        "zcr + rms": [n for n in names if n.split("_")[0] in ("zcr", "rms")],
        "MFCC": [n for n in names if n.startswith("mfcc")],
        "all": names,
    }


def probe_by_group(X, y, clip_ids, plan, names) -> dict:
    """Softmax-regression accuracy (mean and std over the folds of ``plan``) of each feature group."""
    probe = {}
    for gname, cols in feature_groups(names).items():
        idx = [names.index(c) for c in cols]
        res = cross_validate(lambda: SoftmaxRegression(learning_rate=0.5, n_iter=800, l2=1e-3), X[:, idx], y,
                             clip_ids, plan)
        probe[gname] = res["cv"]["accuracy"]
    return probe


def run(ctx) -> dict:
    inst = ctx.dataset(ctx.instruments)
    guitar = ctx.dataset(ctx.guitar)
    mfcc_steps_figure(ctx, next(c for c in guitar.clips if c.labels["effect"] == "clean"), "mfcc_steps_guitar")
    mfcc_steps_figure(ctx, next(c for c in inst.clips if c.labels["instrument"] == "Violin"), "mfcc_steps_violin")

    table = ctx.table(ctx.instruments, "stats:sr=16000")
    names = stats_feature_names()
    X, y = table.X.astype(float), table.column("instrument")
    centroid = {inst_name: X[y == inst_name, names.index("centroid_mean")] for inst_name in sorted(set(y))}
    plots.boxes(ctx.figure("centroid_per_instrument", "Mean spectral centroid of each note, per instrument"),
                centroid, title="Spectral centroid per instrument", ylabel="Hz")

    fisher = dict(zip(names, fisher_ratio(X, y)))
    top = sorted(fisher, key=fisher.get, reverse=True)[:10]
    plots.bars(ctx.figure("fisher_top10", "Fisher ratio of the ten best single features (instrument classes)"),
               top, [fisher[n] for n in top], title="Which single features separate instruments?",
               ylabel="between / within class variance")

    probe = probe_by_group(X, y, table.clip_ids, default_split(inst), names)
    plots.bars(ctx.figure("probe_by_group", "Linear-probe accuracy (softmax, TinySOL folds) per feature group"),
               list(probe), [v["mean"] for v in probe.values()], errors=[v["std"] for v in probe.values()],
               title="Instrument accuracy per feature group", ylabel="accuracy (mean ± std over folds)")
    return {
        "headline": {GROUP_KEYS[g]: v["mean"] for g, v in probe.items()} | {"best_single_feature": top[0]},
        "fisher_ratio": fisher, "top_features": top, "probe_accuracy": probe,
        "centroid_mean_hz": {k: float(np.mean(v)) for k, v in centroid.items()},
        "answer": answer(fisher, top, probe, n_classes=len(set(y))),
    }


def answer(fisher: dict, top: list[str], probe: dict, *, n_classes: int) -> str:
    best = max(probe, key=lambda g: probe[g]["mean"])
    chance = 1 / n_classes
    text = (f"Alone, {top[0]} separates instruments best (Fisher ratio {fisher[top[0]]:.2f}); together, the "
            f"'{best}' group reaches {probe[best]['mean']:.1%} ± {probe[best]['std']:.1%} across the folds "
            f"(chance {chance:.1%}).")
    weak = [g for g, v in probe.items() if v["mean"] < 2 * chance]
    if weak:
        text += f" The {', '.join(weak)} group(s) stay below twice chance: they do not describe the timbre."
    return text
