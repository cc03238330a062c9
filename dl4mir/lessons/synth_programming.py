"""Lesson 13 (Synthesizer programming; Faronbi et al. 2023, Flow Synthesizer, DDX7): which design estimates a
synthesizer's parameters from its sound best, and how close does refining the estimate through the
differentiable synth get?

On ``synth-presets`` (random patches of dl4mir's FM, harmonic-plus-noise and subtractive synths, patches held out
whole): Faronbi et al.'s three multi-task designs — separate encoders and decoders (one CNN estimator per synth,
their baseline), a joint encoder with a decoder per synth, a joint encoder and decoder — each trained through the
one loop on every synth's notes at once, scored by the log-spectral distance between the held-out note and the
note rendered from the predicted patch (in dB and in the paper's definition, against guessing each synth's
training-mean patch) and by parameter error; then estimate + refine (gradient descent through the synth on the
MR-STFT loss) from the best design's estimate on a few held-out notes; then a sound no synth made — a violin note
of ``instruments`` — matched by each synth, starting from the estimator's patch;
then DDX7 (a 0.33 M-parameter causal TCN playing a 6-operator FM patch) against DDSP's 4.3 M-parameter
harmonic-plus-noise decoder, both trained for the same steps to play the violin notes from their own pitch and
loudness, scored on held-out notes and timed as live instruments.
Not in this lesson (the benchmark has them): Flow Synthesizer's MLP, VAE and flow estimators per synth.
"""
from __future__ import annotations

import numpy as np

from dl4mir.lessons.budgets import SYNTH_PROGRAMMING, per_profile
from dl4mir.metrics import synth_lsd
from dl4mir.report import plots
from dl4mir.synth import patches
from dl4mir.synth.matching import match, render_units
from dl4mir.train.data import ControlCrops, prepare, prepare_controls
from dl4mir.train.predict import patch_units
from dl4mir.train.resynthesis import evaluate_decoder, realtime_factor, render_curves

ESTIMATORS = ("synth-estimator-mlp", "synth-estimator")  # estimate()'s; bench_synth_programming.py adds the VAE, flow
DESIGNS = ("separate-separate", "joint-separate", "joint-joint")  # Faronbi et al.'s (encoder-decoder)
KEYS = {"synth-estimator": "cnn", "synth-estimator-mlp": "mlp", "synth-estimator-vae": "vae",
        "synth-estimator-flow": "flow"}
SR = 16000
HEADLINE = {
    "mean_patch_lsd_db": "LSD of guessing each synth's training-mean patch (dB, all held-out notes)",
    **{f"{d}_lsd_db": f"{d}: LSD of its patches (dB, all held-out notes)" for d in DESIGNS},
    **{f"{d}_lsd_log10": f"{d}: LSD in Faronbi et al.'s definition (mean squared log10-power difference)"
       for d in DESIGNS},
    **{f"{s}_refined_lsd_db": f"{s}: LSD after refining the best design's patch (dB, the notes refined)"
       for s in patches.SPACES},
    "refine_lowered": "share of refined notes whose LSD refinement lowered",
    "violin_best_lsd_db": "a real-instrument-like violin note matched by the best synth: LSD (dB)",
    **{f"{m}_{k}": f"{m.upper()}: {label}" for m in ("ddx7", "hpn") for k, label in (
        ("mrstft", "held-out violin notes resynthesized, MR-STFT distance"),
        ("loudness_error_db", "loudness error (dB)"), ("f0_error_cents", "f0 error (cents, re-tracked)"),
        ("parameters", "parameters"), ("rtf_32ms", "realtime factor streamed in 32 ms blocks (compute / audio time)"))},
}
DECODER_CROP = 8000  # half-second crops: a CPU step of the 4.3 M-parameter HpN stays near 0.4 s


def estimate(ctx, synth: str, budget: dict, *, estimators=ESTIMATORS) -> tuple[dict, dict]:
    """Train the ``estimators`` for ``synth`` and score their held-out patches by LSD: ``(scores, held-out notes)``
    (scores under :data:`KEYS`), the second what :func:`refine` starts from (the targets, their f0 and release,
    the CNN's predictions)."""
    data = prepare(f"{synth}-params", profile=ctx.profile, show_progress=ctx.show_progress)
    test, train = data.rows("test"), data.rows("train")
    truth = data.y.numpy() * data.norm["target_std"] + data.norm["target_mean"]
    notes, score, mean = held_out(synth, truth[test], truth[train], data.labels["f0_hz"][test],
                                  data.labels["note_s"][test])
    out = {"n_train": int(len(train)), "n_test": int(len(test)), "n_params": int(truth.shape[1]), "mean": mean}
    units = {}
    for name in estimators:
        trained = ctx.train(name, data, epochs=budget["epochs"], lr=1e-3, export="none", tag=f"{name}-{synth}",
                            training={"batch_size": 32})
        units[KEYS[name]] = pred = trained.model.eval().params(data.X[test]).numpy()
        out[KEYS[name]] = score(pred)
    return out, {**notes, "estimate": units.get("cnn")}


def held_out(synth: str, truth: np.ndarray, train_truth: np.ndarray, f0_hz, note_s) -> tuple[dict, callable, dict]:
    """One synth's held-out notes rendered from their true patches (``truth``, points of the unit cube):
    ``(notes, score, mean)`` — the notes with their f0 and release, ``score(units)`` the LSD and parameter error of
    predicted patches rendered the same way (the same noise), and the scores of guessing the training patches'
    mean."""
    def render(units):
        return render_units(synth, units, f0_hz=f0_hz, note_s=note_s, sr=SR, n_samples=SR)  # the presets' 1 s notes

    target = render(truth)

    def score(units) -> dict:
        return _scores(target, render(units), units, truth)

    guess = np.repeat(train_truth.mean(axis=0, keepdims=True), len(truth), axis=0)
    return {"target": target, "f0_hz": f0_hz, "note_s": note_s}, score, score(guess)


def _scores(target, audio, units, truth) -> dict:
    lsd = synth_lsd(target, audio)
    return {"lsd_db": float(lsd["lsd_db"].mean()), "lsd_log10_power_sq": float(lsd["lsd_log10_power_sq"].mean()),
            "param_mae": float(np.abs(units - truth).mean())}


def multi_task(ctx, budget: dict, *, designs=DESIGNS) -> tuple[dict, dict, callable]:
    """Faronbi et al.'s ``designs`` trained on every synth's notes at once (task ``synth-params``, the same split
    as the single-synth tasks), scored per synth and over all held-out notes: ``(scores, held-out notes per synth,
    estimate)``, the second what :func:`refine` starts from (with the best design's predictions under
    ``"estimate"``), the third the best design as ``estimate(y, sr, synth) → patch`` for any sound."""
    data = prepare("synth-params", profile=ctx.profile, show_progress=ctx.show_progress)
    test, train = data.rows("test"), data.rows("train")
    synth_of, truth = data.y[:, 0].long().numpy(), data.y[:, 1:].numpy()
    synths, sizes = data.norm["synths"], data.norm["synth_n_params"]
    notes, scorers, models = {}, {}, {}
    out = {"n_train": int(len(train)), "n_test": int(len(test)), "per_synth": {}}
    for k, (synth, n) in enumerate(zip(synths, sizes)):
        rows = test[synth_of[test] == k]
        notes[synth], scorers[synth], mean = held_out(synth, truth[rows, :n], truth[train][synth_of[train] == k, :n],
                                                      data.labels["f0_hz"][rows], data.labels["note_s"][rows])
        notes[synth]["rows"] = rows
        out["per_synth"][synth] = {"n_test": int(len(rows)), "n_params": int(n), "mean": mean}
    for design in designs:
        trained = ctx.train("synth-estimator", data, epochs=budget["epochs"], lr=1e-3, export="none",
                            tag=f"synth-estimator-{design}", training={"batch_size": 32}, multi_task=design)
        models[design] = model = trained.model.eval()
        for synth in synths:
            notes[synth][design] = pred = model.params(data.X[notes[synth]["rows"]], synth).numpy()
            out["per_synth"][synth][design] = scorers[synth](pred)
        out[design] = {"parameters": sum(p.numel() for p in model.parameters()), "train_s": trained.summary["seconds"]}
    for key in ("mean", *designs):  # over every held-out note, as the paper's mean LSD
        per = [out["per_synth"][s][key] for s in synths]
        w = np.array([out["per_synth"][s]["n_test"] for s in synths], dtype=float)
        out.setdefault(key, {}).update({m: float(np.average([r[m] for r in per], weights=w))
                                        for m in ("lsd_db", "lsd_log10_power_sq", "param_mae")})
    out["best"] = best = min(designs, key=lambda d: out[d]["lsd_db"])
    for v in notes.values():
        v["estimate"] = v[best]
    model = models[best]

    def estimate(y, sr, synth):
        return patches.denormalize(patch_units(model, data.feature_spec, data.norm, y, sr, synth=synth), synth)
    return out, notes, estimate


def refine(ctx, synth: str, notes: dict, budget: dict) -> dict:
    """Estimate + refine on the first held-out ``notes`` (from :func:`estimate` or :func:`multi_task`); the last
    one's target and refined match as WAVs."""
    before, after = [], []
    for i in range(min(budget["refine_notes"], len(notes["target"]))):
        m = match(notes["target"][i], synth=synth, sr=SR, f0_hz=float(notes["f0_hz"][i]),
                  note_s=float(notes["note_s"][i]), init=patches.denormalize(notes["estimate"][i], synth),
                  steps=budget["refine_steps"], restarts=1, seed=ctx.seed)
        before.append(m.lsd_start["lsd_db"])
        after.append(m.lsd_end["lsd_db"])
    ctx.wav(f"{synth}_target", notes["target"][i], SR, f"{synth}: a held-out patch's note")
    ctx.wav(f"{synth}_refined", m.audio, SR, f"{synth}: the estimate refined through the synth "
                                             f"(LSD {before[-1]:.1f} → {after[-1]:.1f} dB)")
    return {"before_db": before, "after_db": after}


def violin_clip(ctx):
    """The instruments data's violin note nearest A4, mezzo-forte where there is one (this lesson's and the rave
    lesson's sound from outside the synths' and the guitar's worlds)."""
    clips = [c for c in ctx.dataset(ctx.instruments).clips if c.labels["instrument"] == "Violin"]
    return min(clips, key=lambda c: (abs(c.labels["midi"] - 69), c.labels.get("dynamics") != "mf"))


def violin(ctx, budget: dict, estimate=None) -> dict:
    """The violin note's first second (:func:`violin_clip`), matched by each synth from random patches and, with
    ``estimate`` (``(y, sr, synth) → patch``, :func:`multi_task`'s), from the estimator's patch among them."""
    clip = violin_clip(ctx)
    y, _ = clip.load(sr=SR)
    y = np.asarray(y[:SR], dtype=np.float32)
    ctx.wav("violin_target", y, SR, f"the violin note to match ({clip.clip_id})")
    out = {"clip": clip.clip_id, "restarts": budget["restarts"]}
    for synth in patches.SPACES:
        init = estimate(y, SR, synth) if estimate else None
        m = match(y, synth=synth, sr=SR, f0_hz=float(clip.labels["f0_hz"]), note_s=0.9, steps=budget["match_steps"],
                  restarts=budget["restarts"], init=init, seed=ctx.seed)
        out[synth] = {"start_db": m.lsd_start["lsd_db"], "lsd_db": m.lsd_end["lsd_db"], "patch": m.patch,
                      "estimated_db": m.lsd_init["lsd_db"] if init else None}
        ctx.wav(f"violin_by_{synth}", m.audio, SR, f"the violin note matched by {synth} (LSD {m.lsd_end['lsd_db']:.1f} dB)")
    return out


def decoder_notes(ctx, data: str | None = None, clips: str = "instrument=Violin") -> ControlCrops:
    """The notes the decoders learn from: the violin notes (or ``clips`` of ``data``) with their f0 (swift-f0)
    and loudness, in half-second crops."""
    return prepare_controls(data or ctx.instruments, sr=SR, crop_samples=DECODER_CROP, control_rate_hz=250.0,
                            clips=clips, profile=ctx.profile, show_progress=ctx.show_progress)


def decoders(ctx, budget: dict, data: ControlCrops | None = None) -> dict:
    """DDX7 and HpN trained for the same steps on ``data`` (default :func:`decoder_notes`: the violin notes),
    scored on held-out notes (:func:`dl4mir.train.resynthesis.evaluate_decoder`) and timed streaming in 32 ms
    blocks; one held-out note played by each."""
    data = data or decoder_notes(ctx)
    out = {"n_train_notes": int(len(data.file_split["train"]))}
    test = [int(f) for f in data.file_split["test"]]
    for name, lr in (("ddx7", 3e-3), ("hpn", 1e-3)):
        trained = ctx.train(name, data, epochs=budget["decoder_epochs"], lr=lr, export="none",
                            training={"batch_size": 8}, crop_samples=DECODER_CROP)
        model = trained.model
        out[name] = {**evaluate_decoder(model, data, max_files=budget["decoder_notes"]),
                     "steps": trained.summary["steps"], "train_s": trained.summary["seconds"],
                     "rtf_32ms": realtime_factor(model, seconds=2.0, block_ms=32, repeats=2)}
        ctx.wav(f"violin_{name}", render_curves(model, data.controls[test[0]]), SR,
                f"{name.upper()} playing a held-out violin note from its pitch and loudness")
    ctx.wav("violin_held_out", data.audio[test[0]], SR, f"the held-out violin note ({data.files[test[0]].rsplit('/', 1)[-1]})")
    return out


def run(ctx) -> dict:
    budget = per_profile(SYNTH_PROGRAMMING, ctx.profile)
    designs, notes, estimate = multi_task(ctx, budget)
    refined = {synth: refine(ctx, synth, notes[synth], budget) for synth in patches.SPACES}
    matched = violin(ctx, budget, estimate)
    decoded = decoders(ctx, budget)
    plots.grouped_bars(
        ctx.figure("estimators", "Log-spectral distance between held-out notes and the notes rendered from the "
                                 "estimated patches (lower is better), per synth: guessing the training-mean patch, "
                                 "and Faronbi et al.'s three multi-task designs (encoder-decoder)"),
        list(patches.SPACES), {key: [designs["per_synth"][s][key]["lsd_db"] for s in patches.SPACES]
                               for key in ("mean", *DESIGNS)},
        title="Which design finds the patch?", ylabel="LSD (dB)")
    headline = {"mean_patch_lsd_db": designs["mean"]["lsd_db"]}
    for d in DESIGNS:
        headline.update({f"{d}_lsd_db": designs[d]["lsd_db"], f"{d}_lsd_log10": designs[d]["lsd_log10_power_sq"]})
    for s in patches.SPACES:
        headline[f"{s}_refined_lsd_db"] = float(np.mean(refined[s]["after_db"]))
    pairs = [(b, a) for s in patches.SPACES for b, a in zip(refined[s]["before_db"], refined[s]["after_db"])]
    headline["refine_lowered"] = float(np.mean([a < b for b, a in pairs]))
    best = min(patches.SPACES, key=lambda s: matched[s]["lsd_db"])
    headline["violin_best_lsd_db"] = matched[best]["lsd_db"]
    for m in ("ddx7", "hpn"):
        headline.update({f"{m}_{k}": decoded[m][k] for k in ("mrstft", "loudness_error_db", "f0_error_cents",
                                                               "parameters", "rtf_32ms")})
    plots.bars(ctx.figure("decoders", "Held-out violin notes played from their own pitch and loudness: MR-STFT "
                                      "distance to the recording (lower is better), DDX7 against DDSP's HpN"),
               ["DDX7", "HpN"], [decoded["ddx7"]["mrstft"], decoded["hpn"]["mrstft"]],
               title="How close does FM get?", ylabel="MR-STFT distance")
    return {"headline": headline, "multi_task": designs, "refine": refined, "violin": matched, "decoders": decoded,
            "answer": answer(designs, refined, matched, headline, decoded)}


def answer_decoders(d: dict) -> str:
    """The lesson's second question, from this run's numbers."""
    ddx7, hpn = d["ddx7"], d["hpn"]
    ratio = ddx7["mrstft"] / hpn["mrstft"]
    size = hpn["parameters"] / ddx7["parameters"]
    text = (f"How close does a {ddx7['parameters'] / 1e6:.2f} M-parameter FM model get to a "
            f"{hpn['parameters'] / 1e6:.1f} M one? Trained for the same {ddx7['steps']} steps on "
            f"{d['n_train_notes']} violin notes, DDX7 resynthesizes held-out notes at MR-STFT "
            f"{ddx7['mrstft']:.2f} against HpN's {hpn['mrstft']:.2f} ")
    if ratio <= 1.15:
        text += f"(within {max(ratio - 1, 0):.0%}, with 1/{size:.0f} of the parameters: the DDX7 paper's claim holds here). "
    else:
        text += (f"({ratio - 1:.0%} worse — NOT within the 15 % the DDX7 paper reports, with 1/{size:.0f} of the "
                 "parameters; FM has no noise source for the bow, and this is a short training). ")
    if ddx7["steps"] < 200:
        text += (f"Only {ddx7['steps']} steps each (this profile's budget; DDX7 and DDSP train for hours): how the "
                 "two compare may change with training. ")
    text += (f"Loudness follows within {ddx7['loudness_error_db']:.1f} dB (DDX7) and {hpn['loudness_error_db']:.1f} "
             f"dB (HpN); re-tracked pitch is off by {ddx7['f0_error_cents']:.0f} and {hpn['f0_error_cents']:.0f} "
             f"cents on average. Streamed in 32 ms blocks on this machine, DDX7 computes at "
             f"{ddx7['rtf_32ms']:.3f} × realtime and HpN at {hpn['rtf_32ms']:.3f} × (below 1 plays live).")
    return text


def answer_designs(r: dict) -> str:
    """The lesson's first question, from this run's multi-task scores (:func:`multi_task`)."""
    sep, joint = r["separate-separate"], min(("joint-separate", "joint-joint"), key=lambda d: r[d]["lsd_db"])
    text = (f"Which design estimates synthesizer parameters best? Trained on {r['n_train']} notes of all three synths "
            f"and scored on {r['n_test']} held-out ones, the mean LSD is "
            + ", ".join(f"{d} {r[d]['lsd_db']:.1f} dB ({r[d]['lsd_log10_power_sq']:.2f} in the paper's units)"
                        for d in DESIGNS)
            + f", against {r['mean']['lsd_db']:.1f} dB for guessing each synth's mean patch. ")
    if r[joint]["lsd_db"] < sep["lsd_db"]:
        text += (f"A joint encoder ({joint}) beats separate models, as Faronbi et al. found (72.9 against 86.8 in "
                 f"their units): {r[joint]['lsd_db']:.1f} against {sep['lsd_db']:.1f} dB. ")
    else:
        text += (f"Faronbi et al.'s finding (a joint encoder beats separate models) did NOT hold here: the best joint "
                 f"design, {joint}, scores {r[joint]['lsd_db']:.1f} dB against {sep['lsd_db']:.1f} dB for separate "
                 "models. ")
    if abs(r[joint]["lsd_db"] - sep["lsd_db"]) < 1:
        text += ("A gap under 1 dB is within what another seed changes (±0.3–0.5 dB in the benchmark's three seeds), "
                 "so this run alone does not decide it. ")
    per = []
    for s, v in r["per_synth"].items():
        d = min(DESIGNS, key=lambda k: v[k]["lsd_db"])
        per.append(f"{s} {v[d]['lsd_db']:.1f} dB by {d} (mean patch {v['mean']['lsd_db']:.1f}, parameter error "
                   f"{v[d]['param_mae']:.3f} against {v['mean']['param_mae']:.3f})"
                   + (" — next to nothing learned: too few patches for this many parameters"
                      if v["mean"]["lsd_db"] - v[d]["lsd_db"] < 1 else ""))
    return text + "Per synth, the best: " + "; ".join(per) + ". "


def answer(designs: dict, refined: dict, matched: dict, h: dict, decoded: dict) -> str:
    text = answer_designs(designs)
    text += (f"Refining the {designs['best']} estimate through the differentiable synth lowered the LSD on "
             f"{h['refine_lowered']:.0%} of the notes tried ("
             + ", ".join(f"{s} {np.mean(v['before_db']):.1f} → {np.mean(v['after_db']):.1f} dB" for s, v in refined.items())
             + "). ")
    best = min(patches.SPACES, key=lambda s: matched[s]["lsd_db"])
    text += (f"A violin note, which no synth made, is matched best by {best} (LSD {matched[best]['lsd_db']:.1f} dB; "
             + ", ".join(f"{s} {matched[s]['lsd_db']:.1f}" for s in patches.SPACES) + " dB, searching from "
             + (f"the estimator's patch and {matched['restarts'] - 1} random ones" if matched[best]["estimated_db"]
                is not None else f"{matched['restarts']} random patches"))
    if matched[best]["estimated_db"] is not None:
        text += ("; the estimator's own patches, before refinement: "
                 + ", ".join(f"{s} {matched[s]['estimated_db']:.1f}" for s in patches.SPACES) + " dB")
    text += "). "
    worse = [s for s in patches.SPACES if matched[s]["lsd_db"] > matched[s]["start_db"]]
    if worse:
        text += (f"Matching made {', '.join(worse)} WORSE than its best random start by this measure (it minimizes "
                 "the MR-STFT distance, not the LSD). ")
    text += ("LSD weighs every time–frequency bin in dB, so energy where the target is all but silent (above a "
             "synthetic note's partials) costs as much as a wrong partial. ")
    return text + answer_decoders(decoded)
