"""Lesson 9: autoencoders on guitar spectrograms — lossy compression to a small code, denoising, anomaly detection.

The honest bar is linear: PCA with ``d`` components is the best *linear* ``d``-dimensional code, so an autoencoder
with a ``d``-dimensional bottleneck is only worth its training if it beats PCA on clips it never saw (here: a guitar
string held out of training), measured as log-spectral distance (LSD, dB).
"""
from __future__ import annotations

import numpy as np
import torch

from dl4mir.lessons import _generative as G
from dl4mir.report import plots

LATENT_SIZES = (8, 16)
# epochs per profile for the models of this lesson (each epoch sees every training clip once)
EPOCHS = {"quick": {"ae": 1, "denoising-ae": 1}, "default": {"ae": 3, "denoising-ae": 1},
          "full": {"ae": 15, "denoising-ae": 10}}
N_LISTEN = {"quick": 4, "default": 16, "full": 32}  # test clips rendered to audio for the waveform metrics
# The course notebook's dense autoencoder.  On 2 CPU cores it trains several times faster than the convolutional
# one (whose strided convolutions run slowly on CPU); `dl4mir train conv-ae` trains that one.
ARCH = "dense"


def run(ctx) -> dict:
    from dl4mir.evaluate import log_spectral_distance, multi_resolution_stft_distance, spectral_convergence
    from dl4mir.generate import latent
    from dl4mir.generate.spectrogram import SPEC

    budget = EPOCHS.get(ctx.profile, EPOCHS["default"])
    data = G.spectrograms(ctx)
    tr, te = data.rows("train"), data.rows("test")
    X_tr, X_te = data.X[tr].numpy(), data.X[te].numpy()
    raw_te = latent.to_raw(X_te, data.norm)

    def lsd(X_std):
        return float(log_spectral_distance(raw_te, latent.to_raw(X_std, data.norm)).mean())

    # 1. the linear baseline and the (dense, as in the course notebook) autoencoder at each latent size
    table, models, recon = {}, {}, {}
    pca = G.pca_reconstructions(X_tr, X_te, LATENT_SIZES)
    for d in LATENT_SIZES:
        recon[f"PCA d={d}"] = pca[d]
        model, summary = G.train(ctx, "ae", data, epochs=budget["ae"], tag=f"ae-d{d}", latent_dim=d)
        models[d] = model
        recon[f"AE d={d}"] = latent.reconstruct(model, X_te)
        table[d] = {"pca_lsd_db": lsd(recon[f"PCA d={d}"]), "ae_lsd_db": lsd(recon[f"AE d={d}"]),
                    "ae_train_seconds": summary["seconds"]}
        table[d]["margin_db"] = table[d]["pca_lsd_db"] - table[d]["ae_lsd_db"]
    names = list(recon)
    plots.bars(ctx.figure("lsd_by_model", "Held-out log-spectral distance (dB, lower is better): PCA vs autoencoder"),
               names, [lsd(recon[n]) for n in names], title="Reconstruction of a held-out string", ylabel="LSD (dB)")

    # 2. listening: the original, its Griffin-Lim round trip, PCA and autoencoder reconstructions
    listen = np.linspace(0, len(te) - 1, N_LISTEN.get(ctx.profile, 16)).astype(int)
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
    panels = [("original", raw_te[listen[k]], "bin")] + [(n, latent.to_raw(recon[n][listen[k]], data.norm), "bin")
                                                           for n in names]
    plots.image_panels(ctx.figure("reconstructions", "Log-magnitude spectrograms: a held-out clip and its reconstructions"),
                       panels, ncols=3)

    # 3. denoising: the d=16 autoencoder fine-tuned on corrupted inputs (noise + a masked band) with clean targets,
    #    compared with the same autoencoder before fine-tuning, on the same corrupted test clips
    dae, _ = G.train(ctx, "denoising-ae", data, epochs=budget["denoising-ae"], latent_dim=16, arch=ARCH,
                     init_from=models[16])
    from dl4mir.models.autoencoder import corrupt

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
    beats = [d for d in LATENT_SIZES if table[d]["margin_db"] > 0]
    return {
        "headline": {**{f"d={d}: PCA / AE LSD (dB)": f"{t['pca_lsd_db']:.2f} / {t['ae_lsd_db']:.2f} "
                                                     f"(margin {t['margin_db']:+.2f})" for d, t in table.items()},
                     "Griffin-Lim round trip spectral convergence": round_trip["griffin_lim_spectral_convergence"],
                     "denoising: noisy → plain AE → denoising AE, LSD (dB)":
                         f"{denoise['noisy_input_lsd_db']:.2f} → {denoise['plain_ae_d16_on_noisy_lsd_db']:.2f} → "
                         f"{denoise['denoising_ae_lsd_db']:.2f}",
                     "anomaly ROC AUC (guitar vs other sounds)": anomaly["roc_auc"]},
        "latent_sizes": table, "round_trip": round_trip, "waveform_metrics": waveform_metrics, "denoising": denoise,
        "anomaly": anomaly, "split": {"train": len(tr), "test": len(te)},
        "answer": (f"The autoencoder beats PCA on the held-out string for d = {', '.join(map(str, beats))}"
                   if beats else "The autoencoder does not beat PCA here")
                  + " (" + "; ".join(f"d={d}: {t['margin_db']:+.2f} dB" for d, t in table.items()) + ").",
    }


def _anomaly(ctx, model, data, X_normal) -> dict:
    """Scores of held-out guitar clips (normal) against other instruments and guitar clips with noise bursts."""
    from dl4mir.audio import fit_to_length, load
    from dl4mir.augment import noise_bursts
    from dl4mir.classic.metrics import auc, roc_curve
    from dl4mir.generate import latent
    from dl4mir.generate.spectrogram import SPEC

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
