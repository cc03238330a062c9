"""Lesson 13 (Synthesizer programming; Faronbi et al. 2023, Flow Synthesizer, DDX7): which design estimates a
synthesizer's parameters from its sound best, and how close does refining the estimate through the
differentiable synth get?

On ``synth-presets`` (random patches of dl4mir's FM, harmonic-plus-noise and subtractive synths, patches held out
whole): per synth, Flow Synthesizer's MLP and CNN estimators trained through the one loop, scored by the
log-spectral distance between the held-out note and the note rendered from the predicted patch (against guessing
the training patches' mean); then estimate + refine (gradient descent through the synth on the MR-STFT loss) on a
few held-out notes; then a sound no synth made — a violin note of ``instruments`` — matched by each synth.
Not in this lesson yet: DDX7 / HpN decoders, the VAE and flow estimators, multi-task ASP.
"""
from __future__ import annotations

import numpy as np
import torch

from dl4mir.lessons.budgets import SYNTH_PROGRAMMING, per_profile
from dl4mir.metrics import synth_lsd
from dl4mir.report import plots
from dl4mir.synth import patches
from dl4mir.synth.matching import match, render_units
from dl4mir.train.data import prepare

ESTIMATORS = ("synth-estimator-mlp", "synth-estimator")  # the lesson's; bench_synth_programming.py adds the VAE, flow
KEYS = {"synth-estimator": "cnn", "synth-estimator-mlp": "mlp", "synth-estimator-vae": "vae",
        "synth-estimator-flow": "flow"}
SR = 16000
HEADLINE = {
    **{f"{s}_{k}": f"{s}: {label}" for s in patches.SPACES for k, label in (
        ("mean_lsd_db", "LSD of guessing the training patches' mean (dB)"),
        ("mlp_lsd_db", "LSD of the MLP's patches (dB)"), ("cnn_lsd_db", "LSD of the CNN's patches (dB)"),
        ("refined_lsd_db", "LSD after refining the CNN's patch (dB, the notes refined)"))},
    "refine_lowered": "share of refined notes whose LSD refinement lowered",
    "violin_best_lsd_db": "a real-instrument-like violin note matched by the best synth: LSD (dB)",
}


def estimate(ctx, synth: str, budget: dict, *, estimators=ESTIMATORS) -> tuple[dict, dict]:
    """Train the ``estimators`` for ``synth`` and score their held-out patches by LSD: ``(scores, held-out notes)``
    (scores under :data:`KEYS`), the second what :func:`refine` starts from (the targets, their f0 and release,
    the CNN's predictions)."""
    data = prepare(f"{synth}-params", profile=ctx.profile, show_progress=ctx.show_progress)
    test, train = data.rows("test"), data.rows("train")
    truth = data.y.numpy() * data.norm["target_std"] + data.norm["target_mean"]
    f0, note = data.labels["f0_hz"][test], data.labels["note_s"][test]
    n = SR  # the presets' notes are 1 s

    def render(units):
        return render_units(synth, units, f0_hz=f0, note_s=note, sr=SR, n_samples=n)

    target = render(truth[test])
    mean = np.repeat(truth[train].mean(axis=0, keepdims=True), len(test), axis=0)
    out = {"n_train": int(len(train)), "n_test": int(len(test)), "n_params": int(truth.shape[1]),
           "mean": _scores(target, render(mean), mean, truth[test])}
    units = {}
    for name in estimators:
        trained = ctx.train(name, data, epochs=budget["epochs"], lr=1e-3, export="none", tag=f"{name}-{synth}",
                            training={"batch_size": 32})
        units[KEYS[name]] = pred = trained.model.eval().params(data.X[test]).numpy()
        out[KEYS[name]] = _scores(target, render(pred), pred, truth[test])
    return out, {"target": target, "f0_hz": f0, "note_s": note, "cnn_units": units.get("cnn")}


def _scores(target, audio, units, truth) -> dict:
    lsd = synth_lsd(target, audio)
    return {"lsd_db": float(lsd["lsd_db"].mean()), "lsd_log10_power_sq": float(lsd["lsd_log10_power_sq"].mean()),
            "param_mae": float(np.abs(units - truth).mean())}


def refine(ctx, synth: str, notes: dict, budget: dict) -> dict:
    """Estimate + refine on the first held-out ``notes`` (from :func:`estimate`); the last one's target and refined
    match as WAVs."""
    before, after = [], []
    for i in range(min(budget["refine_notes"], len(notes["target"]))):
        m = match(notes["target"][i], synth=synth, sr=SR, f0_hz=float(notes["f0_hz"][i]),
                  note_s=float(notes["note_s"][i]), init=patches.denormalize(notes["cnn_units"][i], synth),
                  steps=budget["refine_steps"], restarts=1, seed=ctx.seed)
        before.append(m.lsd_start["lsd_db"])
        after.append(m.lsd_end["lsd_db"])
    ctx.wav(f"{synth}_target", notes["target"][i], SR, f"{synth}: a held-out patch's note")
    ctx.wav(f"{synth}_refined", m.audio, SR, f"{synth}: the CNN's estimate refined through the synth "
                                             f"(LSD {before[-1]:.1f} → {after[-1]:.1f} dB)")
    return {"before_db": before, "after_db": after}


def violin_clip(ctx):
    """The instruments data's violin note nearest A4, mezzo-forte where there is one (this lesson's and the rave
    lesson's sound from outside the synths' and the guitar's worlds)."""
    clips = [c for c in ctx.dataset(ctx.instruments).clips if c.labels["instrument"] == "Violin"]
    return min(clips, key=lambda c: (abs(c.labels["midi"] - 69), c.labels.get("dynamics") != "mf"))


def violin(ctx, budget: dict) -> dict:
    """The violin note's first second (:func:`violin_clip`), matched by each synth from random patches."""
    clip = violin_clip(ctx)
    y, _ = clip.load(sr=SR)
    y = np.asarray(y[:SR], dtype=np.float32)
    ctx.wav("violin_target", y, SR, f"the violin note to match ({clip.clip_id})")
    out = {"clip": clip.clip_id}
    for synth in patches.SPACES:
        m = match(y, synth=synth, sr=SR, f0_hz=float(clip.labels["f0_hz"]), note_s=0.9, steps=budget["match_steps"],
                  restarts=budget["restarts"], seed=ctx.seed)
        out[synth] = {"start_db": m.lsd_start["lsd_db"], "lsd_db": m.lsd_end["lsd_db"], "patch": m.patch}
        ctx.wav(f"violin_by_{synth}", m.audio, SR, f"the violin note matched by {synth} (LSD {m.lsd_end['lsd_db']:.1f} dB)")
    return out


def run(ctx) -> dict:
    budget = per_profile(SYNTH_PROGRAMMING, ctx.profile)
    results, refined = {}, {}
    for synth in patches.SPACES:
        results[synth], notes = estimate(ctx, synth, budget)
        refined[synth] = refine(ctx, synth, notes, budget)
    matched = violin(ctx, budget)
    names = [f"{s} {k}" for s in patches.SPACES for k in ("mean", "MLP", "CNN")]
    values = [results[s][k]["lsd_db"] for s in patches.SPACES for k in ("mean", "mlp", "cnn")]
    plots.bars(ctx.figure("estimators", "Log-spectral distance between held-out notes and the notes rendered from "
                                        "the estimated patches (lower is better), per synth: guessing the training "
                                        "patches' mean, Flow Synthesizer's MLP and CNN"),
               names, values, title="Which estimator finds the patch?", ylabel="LSD (dB)")
    headline = {}
    for s in patches.SPACES:
        headline.update({f"{s}_mean_lsd_db": results[s]["mean"]["lsd_db"], f"{s}_mlp_lsd_db": results[s]["mlp"]["lsd_db"],
                         f"{s}_cnn_lsd_db": results[s]["cnn"]["lsd_db"],
                         f"{s}_refined_lsd_db": float(np.mean(refined[s]["after_db"]))})
    pairs = [(b, a) for s in patches.SPACES for b, a in zip(refined[s]["before_db"], refined[s]["after_db"])]
    headline["refine_lowered"] = float(np.mean([a < b for b, a in pairs]))
    best = min(patches.SPACES, key=lambda s: matched[s]["lsd_db"])
    headline["violin_best_lsd_db"] = matched[best]["lsd_db"]
    return {"headline": headline, "estimators": results, "refine": refined, "violin": matched,
            "answer": answer(results, refined, matched, headline)}


def answer(results: dict, refined: dict, matched: dict, h: dict) -> str:
    parts = []
    for s, r in results.items():
        better = "CNN" if r["cnn"]["lsd_db"] < r["mlp"]["lsd_db"] else "MLP"
        best = min(r["cnn"]["lsd_db"], r["mlp"]["lsd_db"])
        gain = r["mean"]["lsd_db"] - best
        parts.append(f"{s} ({r['n_params']} parameters, {r['n_train']} training notes): the {better} finds the "
                     f"closer patches, LSD {best:.1f} dB against {r['mean']['lsd_db']:.1f} dB for guessing the mean "
                     "patch" + ("" if gain > 1 else " — it learned next to nothing here: too few patches for this "
                                                    "many parameters"))
    text = "Which design estimates synthesizer parameters best? " + "; ".join(parts) + ". "
    text += (f"Refining the CNN's estimate through the differentiable synth lowered the LSD on "
             f"{h['refine_lowered']:.0%} of the notes tried ("
             + ", ".join(f"{s} {np.mean(v['before_db']):.1f} → {np.mean(v['after_db']):.1f} dB" for s, v in refined.items())
             + "). ")
    best = min((s for s in matched if s != "clip"), key=lambda s: matched[s]["lsd_db"])
    text += (f"A violin note, which no synth made, is matched best by {best} (LSD {matched[best]['lsd_db']:.1f} dB; "
             + ", ".join(f"{s} {matched[s]['lsd_db']:.1f}" for s in patches.SPACES) + " dB). ")
    worse = [s for s in patches.SPACES if matched[s]["lsd_db"] > matched[s]["start_db"]]
    if worse:
        text += (f"Matching made {', '.join(worse)} WORSE than its best random start by this measure (it minimizes "
                 "the MR-STFT distance, not the LSD). ")
    text += ("LSD weighs every time–frequency bin in dB, so energy where the target is all but silent (above a "
             "synthetic note's partials) costs as much as a wrong partial. ")
    text += ("Not measured in this run: DDX7 against HpN (how close a 0.4 M-parameter FM model gets to a 4 M one) "
             "and the multi-task designs — they are not built yet.")
    return text
