"""Lesson 11 (Day 6: RAVE, Caillon & Esling 2021): does a model that makes waveforms directly beat a spectrogram
model whose phase Griffin-Lim has to guess?

A small causal RAVE (``dl4mir/models/configs/rave-small.toml``) learns from guitar-fx's audio — phase 1 (spectral
distance + β·KL), then phase 2 (encoder frozen, adversarial fine-tuning) — and reconstructs the held-out string's
notes.  The same notes go through the ``vae-gan`` lesson's conditional VAE and Griffin-Lim.  Both are scored
against the original audio by the multi-resolution STFT distance, the log-spectral distance and whether a judge
CNN (trained on real spectrograms to name the effect type) still hears the effect.  Then what RAVE users do with
a model: how many latent dimensions keep 95 % / 99 % of the latent variance (and how a reconstruction sounds from
only those), timbre transfer (a violin note and a sung vowel played "through" the guitar model), a walk along the
first latent direction, and draws from the prior.
"""
from __future__ import annotations

import numpy as np
import torch

from dl4mir.config import read_toml
from dl4mir.features.logmag import SPEC
from dl4mir.generate import latent
from dl4mir.lessons import _generative as G
from dl4mir.lessons.budgets import RAVE as BUDGET
from dl4mir.lessons.budgets import epochs, per_profile
from dl4mir.lessons.synth_programming import violin_clip
from dl4mir.lessons.vae_gan import LEARNING_RATE, MODEL_CONFIG, _classify, _judge
from dl4mir.metrics import log_spectral_distance, multi_resolution_stft_distance
from dl4mir.models.rave import CONFIGS
from dl4mir.report import plots
from dl4mir.train.data import prepare_audio

SR = SPEC.sr  # the spectrogram models' rate, so both see the same notes
METHODS = {"rave_phase1": "RAVE after phase 1", "rave": "RAVE after phase 2", "cvae_griffin_lim": "CVAE + Griffin-Lim"}
HEADLINE = {
    **{f"{m}_mrstft": f"{label}: multi-resolution STFT distance to the original (lower is better)"
       for m, label in METHODS.items()},
    **{f"{m}_lsd_db": f"{label}: log-spectral distance (dB)" for m, label in METHODS.items()},
    **{f"{m}_recognized": f"{label}: reconstructions whose effect type the judge recognizes"
       for m, label in METHODS.items()},
    "originals_recognized": "the original held-out notes whose effect type the judge recognizes (its ceiling)",
    "fidelity_95": "latent dimensions keeping 95 % of the variance (of 16)",
    "fidelity_99": "latent dimensions keeping 99 % of the variance (of 16)",
    "train_seconds": "RAVE training time, both phases (s)",
}


def settings(profile: str) -> tuple[dict, dict]:
    """The small configuration's model and training keys, with this profile's numbers of steps."""
    doc, budget = read_toml(CONFIGS / "rave-small.toml"), per_profile(BUDGET, profile)
    model = {**doc["model"], "phase1_steps": budget["phase1"], "warmup_steps": budget["warmup"]}
    train = {k: v for k, v in doc["train"].items() if k not in ("max_steps", "epochs", "patience")}
    return model, train


def train_rave(ctx, audio, budget: dict):
    """Phase 1 into ``models/rave-phase1``, then phase 2 from its weights into ``models/rave`` (the lesson keeps
    both to compare; ``dl4mir train rave`` runs both phases in one run)."""
    model, train = settings(ctx.profile)
    phase1 = ctx.train("rave", audio, epochs=10 ** 6, tag="rave-phase1", export="none",
                       training={**train, "max_steps": budget["phase1"]}, **model)
    phase2 = ctx.train("rave", audio, epochs=10 ** 6, tag="rave", init_from=phase1.model, export="none",
                       training={**train, "max_steps": budget["phase2"]}, **{**model, "phase1_steps": 0})
    return phase1, phase2


def held_out_notes(data, n: int) -> np.ndarray:
    """``n`` test rows spread evenly over the effects (and, within each, over pickups and frets)."""
    te = data.rows("test")
    effects = data.labels["effect"][te]
    per = max(1, n // len(set(effects)))
    rows = []
    for e in sorted(set(effects)):
        mine = te[effects == e]
        rows += list(mine[np.linspace(0, len(mine) - 1, per).astype(int)])
    return np.array(sorted(set(rows))[:n])


def scores(reference: np.ndarray, estimate: np.ndarray, judge, types, target_types, norm: dict) -> dict:
    """MR-STFT distance, LSD and the judge's effect-type accuracy of waveforms ``estimate`` against
    ``reference`` (both ``(n, samples)`` at :data:`SR`)."""
    ref_mag, est_mag = SPEC.from_audio(torch.from_numpy(reference)), SPEC.from_audio(torch.from_numpy(estimate))
    heard = _classify(judge, latent.from_raw(est_mag.numpy(), norm), types)
    return {"mrstft": multi_resolution_stft_distance(reference, estimate, sr=SR),
            "lsd_db": float(log_spectral_distance(ref_mag.numpy(), est_mag.numpy()).mean()),
            "recognized": float(np.mean(heard == target_types))}


@torch.no_grad()
def reconstruct(model, y: np.ndarray, *, n_dims: int | None = None) -> np.ndarray:
    model.eval()
    x = torch.from_numpy(np.asarray(y, dtype=np.float32))
    return torch.cat([model.reconstruct(x[i:i + 16], n_dims=n_dims)[:, 0] for i in range(0, len(x), 16)]).numpy()


def fidelity_table(model, reference: np.ndarray) -> list[dict]:
    """MR-STFT distance of reconstructions decoded from the first ``k`` principal components of the latent space
    (of at most 16 notes of ``reference``)."""
    reference = reference[:: max(1, len(reference) // 16)][:16]
    sizes = sorted({1, model.fidelity(0.95), model.fidelity(0.99), model.cfg.latent_dim})
    cumulative = torch.cumsum(model.explained_variance_ratio, 0).numpy()
    return [{"dims": k, "variance": float(cumulative[k - 1]),
             "mrstft": multi_resolution_stft_distance(reference, reconstruct(model, reference, n_dims=k), sr=SR)}
            for k in sizes]


def transfer_sources(ctx) -> dict[str, np.ndarray]:
    """A violin note (instruments, nearest A4) and a sung vowel (vowels) — sounds the guitar model never heard."""
    out = {}
    clip = violin_clip(ctx)
    out[f"violin ({clip.clip_id})"] = clip.load(sr=SR)[0][:SR]
    vowel = sorted(ctx.dataset(ctx.vowels).clips, key=lambda c: c.clip_id)[0]
    out[f"vowel ({vowel.clip_id})"] = vowel.load(sr=SR)[0][:SR]
    return out


@torch.no_grad()
def traversal(model, y: np.ndarray, *, steps: int = 5, spread: float = 2.0) -> np.ndarray:
    """``y`` re-decoded with its first principal latent coordinate moved from −spread to +spread standard
    deviations: ``(steps, samples)``."""
    z = model.encode_signal(torch.from_numpy(np.asarray(y, dtype=np.float32))[None])
    direction = model.latent_components[0][None, :, None] * model.latent_std[0]
    return np.stack([model.decode_signal(z + t * direction, len(y))[0, 0].numpy()
                     for t in np.linspace(-spread, spread, steps)])


def comparison(ctx, raves: dict, *, n_notes: int) -> dict:
    """``n_notes`` held-out notes reconstructed by each model of ``raves`` and by the vae-gan lesson's CVAE +
    Griffin-Lim (trained here as that lesson trains it), each scored by :func:`scores` against the originals."""
    data = G.spectrograms(ctx, "effect")
    judge, judge_acc, types = _judge(ctx, data, epochs("vae-gan", ctx.profile)["judge"])
    cvae, _ = G.train(ctx, "cvae", data, epochs=epochs("vae-gan", ctx.profile)["cvae"], lr=LEARNING_RATE["cvae"],
                      export="none", **MODEL_CONFIG["cvae"])
    rows = held_out_notes(data, n_notes)
    reference = G.originals(ctx, data, rows)
    target_types = data.labels["effect_type"][rows]
    outputs = {name: reconstruct(model, reference) for name, model in raves.items()}
    outputs["cvae_griffin_lim"] = G.audio(latent.reconstruct(cvae, data.X[rows].numpy(), data.y[rows].numpy()), data)
    return {"data": data, "rows": rows, "reference": reference, "outputs": outputs, "judge_accuracy": judge_acc,
            "results": {m: scores(reference, y, judge, types, target_types, data.norm) for m, y in outputs.items()},
            "originals_recognized": scores(reference, reference, judge, types, target_types, data.norm)["recognized"]}


def run(ctx) -> dict:
    budget = per_profile(BUDGET, ctx.profile)
    audio = prepare_audio(ctx.guitar, sr=SR, crop_samples=settings(ctx.profile)[0]["crop_samples"],
                          profile=ctx.profile, test_group=ctx.test_group, max_files=budget["files"],
                          show_progress=ctx.show_progress)
    print(f"  {audio.describe()}", flush=True)
    phase1, phase2 = train_rave(ctx, audio, budget)
    rave = phase2.model

    cmp = comparison(ctx, {"rave_phase1": phase1.model, "rave": rave}, n_notes=budget["notes"])
    data, rows, reference, outputs, results = (cmp[k] for k in ("data", "rows", "reference", "outputs", "results"))
    originals = cmp["originals_recognized"]

    names = list(METHODS.values())
    for key, label in (("mrstft", "multi-resolution STFT distance"), ("lsd_db", "log-spectral distance (dB)")):
        plots.bars(ctx.figure(f"compare_{key}", f"Held-out notes: {label} to the original, lower is better"),
                   names, [results[m][key] for m in METHODS], title=label, ylabel=label)
    plots.bars(ctx.figure("compare_recognized", "Held-out notes: share whose effect type the judge CNN recognizes "
                          "from the reconstruction (first bar: the originals)"),
               ["originals"] + names, [originals] + [results[m]["recognized"] for m in METHODS],
               title="effect type recognized", ylabel="accuracy")
    k = int(np.flatnonzero(data.labels["effect"][rows] != "clean")[0]) if (data.labels["effect"][rows] != "clean").any() else 0
    panels = [("original", reference[k])] + [(METHODS[m], outputs[m][k]) for m in METHODS]
    plots.image_panels(ctx.figure("reconstructions", f"A held-out note ({data.labels['effect'][rows][k]}) and its "
                                  "reconstructions (log-magnitude, seconds × Hz)"),
                       [(t, SPEC.from_audio(torch.from_numpy(y[None]))[0].numpy(), "frequency (Hz)") for t, y in panels],
                       ncols=2, extent=SPEC.extent)
    for t, y in panels:
        ctx.wav("reconstruction_" + t.split()[0].lower() + ("_phase1" if "phase 1" in t else ""), y, SR,
                f"{t}: a held-out {data.labels['effect'][rows][k]} note")

    fidelity = fidelity_table(rave, reference)
    plots.bars(ctx.figure("fidelity", "RAVE decoding only the first k principal latent dimensions: MR-STFT distance "
                          "to the original (the labels give the share of the latent variance kept)"),
               [f"{row['dims']} ({row['variance']:.0%})" for row in fidelity], [row["mrstft"] for row in fidelity],
               title="fidelity", ylabel="MR-STFT distance")
    for row in fidelity:
        ctx.wav(f"fidelity_{row['dims']}_dims", reconstruct(rave, reference[k:k + 1], n_dims=row["dims"])[0], SR,
                f"RAVE decoding the first {row['dims']} principal latent dimensions ({row['variance']:.1%} of the "
                f"variance): MR-STFT {row['mrstft']:.2f}")
    transfers = {}
    for name, y in transfer_sources(ctx).items():
        out = reconstruct(rave, y[None])[0]
        transfers[name] = {"mrstft_to_source": multi_resolution_stft_distance(y[None], out[None], sr=SR)}
        tag = name.split()[0]
        ctx.wav(f"transfer_{tag}_source", y, SR, f"timbre transfer: the {name}")
        ctx.wav(f"transfer_{tag}_guitar", out, SR, f"the {tag} played through the guitar RAVE")
    walk = traversal(rave, reference[k])
    ctx.wav("traversal", np.concatenate(list(walk)), SR, "A held-out note re-decoded with its first principal latent "
            "coordinate moved from −2 to +2 standard deviations (5 steps)")
    g = torch.Generator().manual_seed(ctx.seed)
    with torch.no_grad():
        prior = rave.sample(2, SR // rave.block_size + 1, generator=g).numpy()
    ctx.wav("prior_samples", np.concatenate(list(prior)), SR, "Two draws from the prior z ~ N(0, I)")

    seconds = phase1.summary["seconds"] + phase2.summary["seconds"]
    return {
        "headline": {**{f"{m}_{key}": results[m][key] for m in METHODS for key in ("mrstft", "lsd_db", "recognized")},
                     "originals_recognized": originals, "fidelity_95": rave.fidelity(0.95),
                     "fidelity_99": rave.fidelity(0.99), "train_seconds": seconds},
        "scores": results, "judge_test_accuracy": cmp["judge_accuracy"], "n_notes": int(len(rows)),
        "steps": {"phase1": phase1.summary["steps"], "phase2": phase2.summary["steps"]},
        "fidelity": fidelity, "transfer": transfers, "data": audio.describe(),
        "answer": answer(results, originals),
    }


def answer(results: dict, originals: float, *, bar: float = 0.9) -> str:
    rave, cvae = results["rave"], results["cvae_griffin_lim"]
    beats = rave["mrstft"] < cvae["mrstft"]
    before = results["rave_phase1"]
    return (f"RAVE's reconstructions are {'closer to' if beats else 'farther from'} the originals than the CVAE + "
            f"Griffin-Lim ones (MR-STFT {rave['mrstft']:.2f} vs {cvae['mrstft']:.2f}; LSD {rave['lsd_db']:.1f} vs "
            f"{cvae['lsd_db']:.1f} dB): the waveform model {'beats' if beats else 'does not beat'} spectrogram + "
            f"Griffin-Lim here. The judge recognizes the effect type of {rave['recognized']:.0%} of RAVE's "
            f"reconstructions ({'meets' if rave['recognized'] >= bar else 'misses'} the {bar:.0%} bar; "
            f"{cvae['recognized']:.0%} for the CVAE, {originals:.0%} for the originals). Phase 2 moved the MR-STFT "
            f"distance from {before['mrstft']:.2f} to {rave['mrstft']:.2f} and recognition from "
            f"{before['recognized']:.0%} to {rave['recognized']:.0%}.")
