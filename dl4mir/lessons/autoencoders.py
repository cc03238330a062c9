"""Lesson 9: autoencoders on guitar spectrograms — lossy compression to a small code, denoising, anomaly detection.

The honest bar is linear: PCA with ``d`` components is the best *linear* ``d``-dimensional code, so an autoencoder
with a ``d``-dimensional bottleneck is only worth its training if it beats PCA on clips it never saw (here: a guitar
string held out of training), measured as log-spectral distance (LSD, dB).
"""
from __future__ import annotations

import numpy as np
import torch

from dl4mir.audio import fit_to_length, load
from dl4mir.augment import noise_bursts
from dl4mir.features.logmag import SPEC
from dl4mir.generate import latent
from dl4mir.lessons import _generative as G
from dl4mir.lessons.budgets import N_LISTEN, epochs, per_profile
from dl4mir.metrics import (auc, log_spectral_distance, multi_resolution_stft_distance, roc_curve,
                            spectral_convergence)
from dl4mir.models.autoencoder import corrupt
from dl4mir.report import plots

LATENT_SIZES = (8, 16)
HEADLINE = {**{f"{k}_d{d}": f"d={d}: {label}" for d in LATENT_SIZES for k, label in
               (("pca_lsd", "PCA held-out LSD (dB)"), ("ae_lsd", "autoencoder held-out LSD (dB)"),
                ("margin", "PCA − autoencoder (dB; > 0: the autoencoder wins)"))},
            "griffin_lim_sc": "Griffin-Lim round trip: spectral convergence",
            "noisy_lsd": "denoising: noisy input LSD (dB)", "plain_ae_on_noisy_lsd": "denoising: plain AE (dB)",
            "denoising_ae_lsd": "denoising: denoising AE (dB)",
            "anomaly_auc": "anomaly detection ROC AUC (guitar vs other instruments)"}
# The dense autoencoders (8.4 M weights each) are not exported: they would take 34 MB each in a run folder.
# `dl4mir train ae --set latent_dim=16 --set arch=dense` trains and exports the same model.
EXPORT = "none"
# The course notebook's dense autoencoder.  On 2 CPU cores it trains several times faster than the convolutional
# one (whose strided convolutions run slowly on CPU); `dl4mir train conv-ae` trains that one.
ARCH = "dense"


def compare_with_pca(ctx, data, n_epochs: int) -> dict:
    """Held-out log-spectral distance of PCA and of the dense autoencoder at every latent size, with the trained
    models and their reconstructions of the test clips."""
    tr, te = data.rows("train"), data.rows("test")
    X_tr, X_te = data.X[tr].numpy(), data.X[te].numpy()
    raw_te = latent.to_raw(X_te, data.norm)

    def lsd(X_std):
        return float(log_spectral_distance(raw_te, latent.to_raw(X_std, data.norm)).mean())

    table, models, recon = {}, {}, {}
    pca = G.pca_reconstructions(X_tr, X_te, LATENT_SIZES)
    for d in LATENT_SIZES:
        recon[f"PCA d={d}"] = pca[d]
        model, summary = G.train(ctx, "ae", data, epochs=n_epochs, tag=f"ae-d{d}", latent_dim=d, export=EXPORT)
        models[d] = model
        recon[f"AE d={d}"] = latent.reconstruct(model, X_te)
        table[d] = {"pca_lsd_db": lsd(recon[f"PCA d={d}"]), "ae_lsd_db": lsd(recon[f"AE d={d}"]),
                    "ae_train_seconds": summary["seconds"]}
        table[d]["margin_db"] = table[d]["pca_lsd_db"] - table[d]["ae_lsd_db"]
    return {"table": table, "models": models, "recon": recon, "lsd": lsd}


def run(ctx) -> dict:
    budget = epochs("autoencoders", ctx.profile)
    data = G.spectrograms(ctx)
    tr, te = data.rows("train"), data.rows("test")
    X_te = data.X[te].numpy()
    raw_te = latent.to_raw(X_te, data.norm)

    # 1. the linear baseline and the (dense, as in the course notebook) autoencoder at each latent size
    cmp = compare_with_pca(ctx, data, budget["ae"])
    table, models, recon, lsd = cmp["table"], cmp["models"], cmp["recon"], cmp["lsd"]
    names = list(recon)
    plots.bars(ctx.figure("lsd_by_model", "Held-out log-spectral distance (dB, lower is better): PCA vs autoencoder"),
               names, [lsd(recon[n]) for n in names], title="Reconstruction of a held-out string", ylabel="LSD (dB)")

    # 2. listening: the original, its Griffin-Lim round trip, PCA and autoencoder reconstructions
    listen = np.linspace(0, len(te) - 1, per_profile(N_LISTEN, ctx.profile)).astype(int)
    y_orig = G.originals(ctx, data, te[listen])
    gl_orig = SPEC.to_audio(SPEC.from_audio(y_orig), n_iter=64).numpy()
    mag = lambda y: SPEC.stft(torch.as_tensor(y)).abs().numpy()  # noqa: E731
    mag_orig = mag(y_orig)
    round_trip = {"griffin_lim_spectral_convergence": float(spectral_convergence(mag_orig, mag(gl_orig)).mean()),
                  "griffin_lim_mrstft": multi_resolution_stft_distance(y_orig, gl_orig, sr=SPEC.sr)}
    rendered = {n: G.audio(recon[n][listen], data) for n in names}
    waveform_metrics = {n: {"mrstft": multi_resolution_stft_distance(y_orig, y, sr=SPEC.sr),
                            "spectral_convergence": float(spectral_convergence(mag_orig, mag(y)).mean())}
                        for n, y in rendered.items()}
    k = 0
    label = data.labels["effect"][te[listen[k]]]
    ctx.wav("original", y_orig[k], SPEC.sr, f"A held-out clip ({label}), the first {SPEC.duration_s:.2f} s")
    ctx.wav("original_griffin_lim", gl_orig[k], SPEC.sr, "Its magnitudes only, phase rebuilt by Griffin-Lim (64 iterations)")
    for n in names:
        ctx.wav(n.replace(" ", "_").replace("=", ""), rendered[n][k], SPEC.sr, f"{n} reconstruction (Griffin-Lim)")
    panels = [("original", raw_te[listen[k]], "frequency (Hz)")] + [
        (n, latent.to_raw(recon[n][listen[k]], data.norm), "frequency (Hz)") for n in names]
    plots.image_panels(ctx.figure("reconstructions", "Log-magnitude spectrograms: a held-out clip and its reconstructions"),
                       panels, ncols=3, extent=SPEC.extent)

    # 3. denoising: the d=16 autoencoder fine-tuned on corrupted inputs (noise + a masked band) with clean targets,
    #    compared with the same autoencoder before fine-tuning, on the same corrupted test clips
    dae, _ = G.train(ctx, "denoising-ae", data, epochs=budget["denoising-ae"], latent_dim=16, arch=ARCH,
                     init_from=models[16], export=EXPORT)
    torch.manual_seed(ctx.seed)
    noisy = corrupt(torch.from_numpy(X_te), dae.cfg.noise_std).numpy()
    denoise = {"noisy_input_lsd_db": lsd(noisy), "denoising_ae_lsd_db": lsd(latent.reconstruct(dae, noisy)),
               "plain_ae_d16_on_noisy_lsd_db": lsd(latent.reconstruct(models[16], noisy)),
               "denoising_ae_on_clean_lsd_db": lsd(latent.reconstruct(dae, X_te))}

    # 4. anomaly detection: reconstruction error of unseen guitar clips vs sounds the model never learned
    anomaly = _anomaly(ctx, models[16], data, X_te)

    # 5. the latent space of the 16-dimensional autoencoder, coloured by effect family
    Z2 = latent.latent_map(latent.encode(models[16], X_te))
    plots.scatter(ctx.figure("latent_map", "Autoencoder codes (d=16) of the held-out string, PCA to 2-D"),
                  Z2, data.labels["effect_type"][te], title="AE latent space by effect type",
                  xlabel="PC 1", ylabel="PC 2")
    by_id = {c.clip_id: c for c in ctx.dataset(ctx.guitar).clips}
    ctx.map("Autoencoder latent space (d=16, PCA to 2-D), held-out string, by effect type", Z2,
            data.labels["effect_type"][te], [by_id[data.clip_ids[r]] for r in te], max_points=100)
    return {
        "headline": {**{f"{k}_d{d}": t[f"{k}_db"] for d, t in table.items() for k in ("pca_lsd", "ae_lsd", "margin")},
                     "griffin_lim_sc": round_trip["griffin_lim_spectral_convergence"],
                     "noisy_lsd": denoise["noisy_input_lsd_db"],
                     "plain_ae_on_noisy_lsd": denoise["plain_ae_d16_on_noisy_lsd_db"],
                     "denoising_ae_lsd": denoise["denoising_ae_lsd_db"], "anomaly_auc": anomaly["roc_auc"]},
        "latent_sizes": table, "round_trip": round_trip, "waveform_metrics": waveform_metrics, "denoising": denoise,
        "anomaly": anomaly, "split": {"train": len(tr), "test": len(te)},
        "reproduce": "dl4mir train ae --set arch=dense --set latent_dim=16 (the lesson does not keep these "
                     "34 MB models in the run folder)",
        "answer": answer(table, denoise, anomaly),
    }


def answer(table: dict, denoise: dict, anomaly: dict) -> str:
    beats = [d for d in LATENT_SIZES if table[d]["margin_db"] > 0]
    text = ((f"The autoencoder beats PCA on the held-out string for d = {', '.join(map(str, beats))}"
             if beats else "The autoencoder does not beat PCA here")
            + " (" + "; ".join(f"d={d}: {t['margin_db']:+.2f} dB" for d, t in table.items()) + "). ")
    if denoise["denoising_ae_lsd_db"] < denoise["plain_ae_d16_on_noisy_lsd_db"]:
        text += (f"Trained on corrupted inputs, it removes more corruption than the plain autoencoder "
                 f"({denoise['denoising_ae_lsd_db']:.2f} against {denoise['plain_ae_d16_on_noisy_lsd_db']:.2f} dB). ")
    else:
        text += "Fine-tuning on corrupted inputs did not make it a better denoiser in this run. "
    auc_ = anomaly["roc_auc"]
    return text + (f"Its reconstruction error flags sounds it never learned (ROC AUC {auc_:.2f})." if auc_ >= 0.8 else
                   f"Its reconstruction error is a weak anomaly detector here (ROC AUC {auc_:.2f}).")


def _anomaly(ctx, model, data, X_normal) -> dict:
    """Scores of held-out guitar clips (normal) against other instruments and guitar clips with noise bursts."""
    rng = np.random.default_rng(ctx.seed)
    n = min(64, len(X_normal))
    other = ctx.dataset(ctx.instruments).clips
    pick = rng.choice(len(other), size=min(n, len(other)), replace=False)
    y_other = np.stack([fit_to_length(load(other[i].path, sr=SPEC.sr)[0], length=SPEC.n_samples) for i in pick])
    y_guitar = G.originals(ctx, data, data.rows("test")[:n])
    y_burst = np.stack([noise_bursts(y, sr=SPEC.sr, rng=rng) for y in y_guitar])
    as_input = lambda y: latent.from_raw(SPEC.from_audio(y).numpy(), data.norm)  # noqa: E731
    scores = {"guitar (held-out string)": latent.anomaly_scores(model, X_normal[:n]),
              "other instruments": latent.anomaly_scores(model, as_input(y_other)),
              "guitar + noise bursts": latent.anomaly_scores(model, as_input(y_burst))}
    normal = scores["guitar (held-out string)"]
    out = {"median_score": {k: float(np.median(v)) for k, v in scores.items()}}
    for name in ("other instruments", "guitar + noise bursts"):
        y_true = np.r_[np.zeros(len(normal)), np.ones(len(scores[name]))]
        fpr, tpr, _ = roc_curve(y_true, np.r_[normal, scores[name]])
        out[f"roc_auc_{name}"] = auc(fpr, tpr)
    out["roc_auc"] = out["roc_auc_other instruments"]
    plots.boxes(ctx.figure("anomaly_scores", "Reconstruction error as an anomaly score (AE d=16)"), scores,
                title="Anomaly score by source", ylabel="reconstruction MSE (standardized)")
    return out
