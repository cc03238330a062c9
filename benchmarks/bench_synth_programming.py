"""How fast do dl4mir's differentiable synthesizers render?  Prints × realtime (seconds of audio per second).

    python benchmarks/bench_synth_programming.py                  # batch 64 of 1 s notes at 16 kHz (the issue's case)
    python benchmarks/bench_synth_programming.py --device cuda    # the same on a GPU
    python benchmarks/bench_synth_programming.py --backward       # forward + backward (what training pays)
    python benchmarks/bench_synth_programming.py --match          # the loss's speed; matching: LSD before / after, time
    python benchmarks/bench_synth_programming.py --estimate       # parameter estimators on synth-presets, + refine
    python benchmarks/bench_synth_programming.py --decoders       # DDX7 vs HpN: speed, then trained on 4 sources
    python benchmarks/bench_synth_programming.py --multi-task     # Faronbi et al.'s three designs, then refinement

Each synth renders random patches (``dl4mir.synth.patches.random_patch``) through ``render_batch``, envelopes and
all; the best of ``--repeats`` after one warm-up.  torchsynth's Voice (a modular torch synth, states 16,200×
realtime on a GPU) is timed the same way when it imports next to this torch.

``--match``: :func:`dl4mir.synth.matching.match` (gradient descent from random patches, no estimator yet) on three
random patches of each synth at 220 Hz, and on a sound no synth made — the real EGFxSet clean note in
``../shared/fixtures`` (string 6, fret 22: D4), first 1.5 s at 16 kHz — with each synth: LSD (dB and Faronbi et al.'s
squared log10 power) of the best starting patch and of the match, seconds per match.

``--estimate``: the ``synth-programming`` lesson's ``estimate`` and ``refine`` with a larger budget: per synth,
``synth-estimator`` (CNN), ``synth-estimator-mlp`` and Flow Synthesizer's other two, ``synth-estimator-vae`` (VAE +
regression) and ``synth-estimator-flow`` (a conditional normalizing flow), trained on the default ``synth-presets``
(patches held out whole); on the held-out notes: parameter MAE, and the LSD between the note rendered from the true patch and from the
predicted one (the same noise), against predicting every note the training patches' mean; then estimate + refine
(:func:`dl4mir.synth.matching.match` from the CNN's prediction) on the first held-out notes: LSD before / after and
the share it lowered.

``--decoders``: DDX7 and HpN at the papers' sizes.  Speed first (untrained weights: the cost does not depend on
them): realtime factor (compute time / audio time) of decoder + synth for a 4 s note rendered whole, and streamed
in 32 ms and 256 ms blocks (the DDX7 paper's two cases), batch 1, on the CPU threads torch has; then the
``synth-programming`` lesson's ``decoders`` with ``--epochs`` passes (the same steps for both) on violin, flute
and trumpet notes of ``instruments`` (the paper's URMP subset) and on guitar-fx's clean notes: held-out MR-STFT
distance, loudness error (dB), f0 error (cents, re-tracked with swift-f0), parameters, training seconds;
``--patch-search`` also trains DDX7 with each patch of ``dl4mir.models.ddx7.PATCHES``, chooses one per source by
the validation notes' MR-STFT distance and scores it on the held-out notes.

``--multi-task``: the ``synth-programming`` lesson's ``multi_task`` with ``--epochs`` (default 40) for each of
``--seeds`` seeds: separate encoders and decoders, a joint encoder with a decoder per synth, a joint encoder and
decoder, each trained on every synth's notes of ``synth-presets`` (``--profile``) at once; on the held-out notes
the mean LSD over all of them (dB, and Faronbi et al.'s mean squared log10-power difference) and per synth, with
parameter MAE; mean ± standard deviation over the seeds.  Then estimate + refine (``--steps`` of gradient descent
through the synth from the best design's estimate, one start) on one note (MIDI 60, or the middle pitch) of every
held-out patch (the first ``--refine`` per synth): LSD before / after, the share it lowered, seconds per note;
then sounds no synth made (three guitar-fx clean notes, violin, flute and trumpet A4 of ``instruments``, their first
second) estimated by the best design and refined through each synth: LSD of the estimate and of the match.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from dl4mir.synth import patches

ESTIMATORS = ("synth-estimator-mlp", "synth-estimator-vae", "synth-estimator-flow", "synth-estimator")
DECODER_SOURCES = [("instruments", "instrument=Violin"), ("instruments", "instrument=Flute"),
                   ("instruments", "instrument=Trumpet in C"), ("guitar-fx", "effect=clean")]


def batch_params(synth: str, batch: int, device: str, grad: bool) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(0)
    rows = [patches.random_patch(synth, rng) for _ in range(batch)]
    return {k: torch.tensor([r[k] for r in rows], dtype=torch.float32, device=device, requires_grad=grad)
            for k in rows[0]}


def timed(fn, repeats: int, device: str) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64, help="notes per batch (default: %(default)s)")
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each note (default: %(default)s)")
    ap.add_argument("--sample-rate", type=int, default=16000, help="sample rate in Hz (default: %(default)s)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    ap.add_argument("--backward", action="store_true", help="time forward + backward (default: forward only)")
    ap.add_argument("--repeats", type=int, default=5, help="best of N (default: %(default)s)")
    ap.add_argument("--match", action="store_true", help="measure sound matching instead of speed (default: speed)")
    ap.add_argument("--estimate", action="store_true", help="measure the parameter estimators (default: speed)")
    ap.add_argument("--decoders", action="store_true", help="measure DDX7 against HpN (default: speed of the synths)")
    ap.add_argument("--multi-task", action="store_true",
                    help="measure the multi-task designs and refinement (default: speed of the synths)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="--estimate / --decoders / --multi-task: training epochs (default: 40 / 4 / 40)")
    ap.add_argument("--seeds", type=int, default=3, help="--multi-task: seeds (default: %(default)s)")
    ap.add_argument("--patch-search", action="store_true",
                    help="--decoders: also train DDX7 with each patch of dl4mir.models.ddx7.PATCHES and choose one "
                         "per source on its validation notes (default: the default patch only)")
    ap.add_argument("--source", action="append", default=[], metavar="DATA:KEY=VALUE",
                    help="--decoders: the notes to train on, repeatable, e.g. instruments:instrument=Violin "
                         "(default: violin, flute, trumpet of instruments and guitar-fx's clean notes)")
    ap.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                    help="--multi-task: synth-presets' size (default: %(default)s)")
    ap.add_argument("--refine", type=int, default=None,
                    help="--estimate: held-out notes refined per synth (default: 8); --multi-task: held-out patches "
                         "refined per synth (default: all)")
    ap.add_argument("--steps", type=int, default=200, help="--match: optimizer steps (default: %(default)s)")
    ap.add_argument("--restarts", type=int, default=6, help="--match: starting patches (default: %(default)s)")
    args = ap.parse_args()
    if args.match:
        return matching(args)
    if args.estimate:
        return estimation(args)
    if args.decoders:
        return decoders(args)
    if args.multi_task:
        return multi_task(args)
    n = int(args.seconds * args.sample_rate)
    audio_s = args.batch * args.seconds
    print(f"batch {args.batch} × {args.seconds:g} s at {args.sample_rate} Hz on {args.device}, "
          f"{torch.get_num_threads()} threads, {'forward + backward' if args.backward else 'forward'}")
    for synth in patches.SPACES:
        params = batch_params(synth, args.batch, args.device, args.backward)
        f0 = torch.tensor(np.geomspace(55, 880, args.batch), dtype=torch.float32, device=args.device)

        def run():
            y = patches.render_batch(synth, params, f0_hz=f0, note_s=0.7 * args.seconds,
                                     sample_rate=args.sample_rate, n_samples=n)
            if args.backward:
                y.pow(2).mean().backward()
            return y

        with torch.set_grad_enabled(args.backward):
            seconds = timed(run, args.repeats, args.device)
        print(f"{synth:15s} {seconds * 1e3:8.1f} ms   {audio_s / seconds:8.0f}× realtime")
    try:
        from torchsynth.config import SynthConfig
        from torchsynth.synth import Voice
    except Exception as exc:  # noqa: BLE001 - any import failure is the answer
        print(f"torchsynth: not importable here ({type(exc).__name__}: {exc})")
        return
    voice = Voice(SynthConfig(batch_size=args.batch, sample_rate=args.sample_rate, buffer_size_seconds=args.seconds,
                              reproducible=False)).to(args.device)
    with torch.no_grad():
        seconds = timed(lambda: voice(0), args.repeats, args.device)
    print(f"{'torchsynth Voice':15s} {seconds * 1e3:8.1f} ms   {audio_s / seconds:8.0f}× realtime")


def loss_speed(args) -> None:
    """A match's loss, forward + backward, for ``restarts`` renders against one 1 s target: auraloss's
    MultiResolutionSTFTLoss (the target repeated along the batch) and :class:`MRSTFTToTarget` side by side."""
    import auraloss

    from dl4mir.synth.matching import MRSTFTToTarget

    torch.manual_seed(0)
    target = torch.randn(16000)
    audio = torch.randn(args.restarts, 16000, requires_grad=True)
    aura = auraloss.freq.MultiResolutionSTFTLoss(sample_rate=16000)
    cached = MRSTFTToTarget(target)
    fns = {"auraloss MultiResolutionSTFTLoss": lambda: aura(audio[:, None], target.expand(len(audio), 1, -1)),
           "MRSTFTToTarget (target once)": lambda: cached(audio)}
    values = {}
    for name, fn in fns.items():
        values[name] = round(float(fn().detach()), 6)

        def step():
            audio.grad = None
            fn().backward()
        seconds = timed(step, max(args.repeats, 20), "cpu")
        print(f"{name:34s} {seconds * 1e3:6.1f} ms per step (forward + backward, {args.restarts} renders)")
    print(f"same value: {values}")


def matching(args) -> None:
    from pathlib import Path

    from dl4mir.audio import load
    from dl4mir.synth.matching import match

    def show(name, m):
        a, b = m.lsd_start, m.lsd_end
        print(f"{name:34s} LSD {a['lsd_db']:5.1f} → {b['lsd_db']:5.1f} dB   squared log10 power "
              f"{a['lsd_log10_power_sq']:5.2f} → {b['lsd_log10_power_sq']:5.2f}   {m.seconds:4.0f} s")

    loss_speed(args)
    print(f"sound matching, {args.steps} steps × {args.restarts} restarts, 1 s notes at 16 kHz")
    rng = np.random.default_rng(1)
    for synth in patches.SPACES:
        for k in range(3):
            target = patches.render(synth, patches.random_patch(synth, rng), f0_hz=220.0, note_s=0.7, duration_s=1.0)
            show(f"{synth} patch {k} by {synth}", match(target, synth=synth, sr=16000, steps=args.steps,
                                                       restarts=args.restarts, seed=k))
    real = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "egfxset_sample" / "Clean" / "Middle" / "6-22.wav"
    if not real.is_file():
        print(f"(no real note: {real} not found)")
        return
    y, _ = load(real, sr=16000)
    y = y[: int(1.5 * 16000)]
    for synth in patches.SPACES:
        show(f"real EGFxSet Clean 6-22 by {synth}", match(y, synth=synth, sr=16000, steps=args.steps,
                                                          restarts=args.restarts, note_s=1.4))


def estimation(args) -> None:
    import tempfile
    from pathlib import Path

    from dl4mir.lessons import LessonContext, synth_programming

    budget = {"epochs": args.epochs or 40, "refine_notes": args.refine or 8, "refine_steps": args.steps}
    with tempfile.TemporaryDirectory() as tmp:  # the lesson's functions, so the figures are the lesson's
        ctx = LessonContext(out_dir=Path(tmp), profile="default", show_progress=False)
        for synth in patches.SPACES:
            t0 = time.perf_counter()
            scores, notes = synth_programming.estimate(ctx, synth, budget, estimators=ESTIMATORS)
            print(f"{synth}: {scores['n_train']} training / {scores['n_test']} held-out notes, {scores['n_params']} "
                  f"parameters; {time.perf_counter() - t0:.0f} s for the {len(ESTIMATORS)} estimators")
            for key, name in (("mean", "the training mean"),
                              *((synth_programming.KEYS[n], n) for n in ESTIMATORS)):
                r = scores[key]
                print(f"  {name:20s} MAE {r['param_mae']:.3f}, LSD {r['lsd_db']:.1f} dB "
                      f"({r['lsd_log10_power_sq']:.2f})")
            refined = synth_programming.refine(ctx, synth, notes, budget)
            before, after = np.array(refined["before_db"]), np.array(refined["after_db"])
            print(f"  estimate + refine ({args.steps} steps) on {len(before)} held-out notes: LSD "
                  f"{before.mean():.1f} → {after.mean():.1f} dB, lowered on {np.mean(after < before):.0%}")


def decoders(args) -> None:
    import tempfile
    from pathlib import Path

    from dl4mir.lessons import LessonContext, synth_programming
    from dl4mir.models import build_model
    from dl4mir.train.resynthesis import realtime_factor

    print(f"realtime factor (compute / audio time), 4 s note, batch 1, {torch.get_num_threads()} threads, CPU")
    for name in ("ddx7", "hpn"):
        model = build_model(name)
        n = sum(p.numel() for p in model.parameters())
        whole, b32, b256 = (realtime_factor(model, seconds=4.0, block_ms=b, repeats=args.repeats)
                            for b in (None, 32, 256))
        print(f"  {name:5s} {n / 1e6:5.2f} M parameters: whole {whole:.4f} ({1 / whole:.0f}× realtime), "
              f"32 ms blocks {b32:.3f}, 256 ms blocks {b256:.3f}")
    budget = {"decoder_epochs": args.epochs or 4, "decoder_notes": None}
    sources = [tuple(v.split(":", 1)) for v in args.source] if args.source else DECODER_SOURCES
    with tempfile.TemporaryDirectory() as tmp:
        ctx = LessonContext(out_dir=Path(tmp), profile="default", show_progress=False)
        for data, clips in sources:
            notes = synth_programming.decoder_notes(ctx, data, clips)
            d = synth_programming.decoders(ctx, budget, notes)
            print(f"{data} {clips}: {d['n_train_notes']} training notes, {d['ddx7']['steps']} steps each")
            for name in ("ddx7", "hpn"):
                r = d[name]
                print(f"  {name:5s} MR-STFT {r['mrstft']:.3f}, loudness error {r['loudness_error_db']:.2f} dB, f0 "
                      f"error {r['f0_error_cents']:.1f} cents (RPA {r['f0_rpa']:.3f}), {r['n']} held-out notes, "
                      f"{r['train_s']:.0f} s training")
            print(f"  DDX7 / HpN MR-STFT: {d['ddx7']['mrstft'] / d['hpn']['mrstft']:.2f}")
            if args.patch_search:
                patch_search(ctx, budget, notes, d["hpn"]["mrstft"])


def patch_search(ctx, budget: dict, notes, hpn_mrstft: float) -> None:
    """DDX7 with each of ``dl4mir.models.ddx7.PATCHES`` for the same epochs on ``notes``; the patch is chosen by
    the validation notes' MR-STFT distance (DDX7 picks one per instrument), then scored on the held-out ones."""
    from dl4mir.lessons.synth_programming import DECODER_CROP
    from dl4mir.models.ddx7 import PATCHES
    from dl4mir.train.resynthesis import evaluate_decoder

    scores = {}
    for key, ratios in PATCHES.items():
        model = ctx.train("ddx7", notes, epochs=budget["decoder_epochs"], lr=3e-3, export="none",
                          training={"batch_size": 8}, crop_samples=DECODER_CROP, ratios=ratios).model
        scores[key] = (evaluate_decoder(model, notes, split="val")["mrstft"], evaluate_decoder(model, notes)["mrstft"])
        print(f"  patch {key:14s} validation MR-STFT {scores[key][0]:.3f}, held-out {scores[key][1]:.3f}")
    best = min(scores, key=lambda k: scores[k][0])
    print(f"  chosen on validation: {best}, held-out MR-STFT {scores[best][1]:.3f} = {scores[best][1] / hpn_mrstft:.2f}"
          " × HpN's")


def multi_task(args) -> None:
    import tempfile
    from pathlib import Path

    from dl4mir.lessons import LessonContext, synth_programming

    designs = synth_programming.DESIGNS
    budget = {"epochs": args.epochs or 40, "refine_steps": args.steps}
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            ctx = LessonContext(out_dir=Path(tmp), profile=args.profile, show_progress=False, seed=seed)
            t0 = time.perf_counter()
            scores, notes, estimate = synth_programming.multi_task(ctx, budget)
            runs.append(scores)
            print(f"seed {seed}: {scores['n_train']} training / {scores['n_test']} held-out notes, "
                  f"{budget['epochs']} epochs, {time.perf_counter() - t0:.0f} s")
            for key in ("mean", *designs):
                r = scores[key]
                per = ", ".join(f"{s} {v[key]['lsd_db']:.1f} dB (MAE {v[key]['param_mae']:.3f})"
                                for s, v in scores["per_synth"].items())
                size = f", {r['parameters'] / 1e6:.2f} M" if "parameters" in r else ""
                print(f"  {'mean patch' if key == 'mean' else key:17s} LSD {r['lsd_db']:5.2f} dB "
                      f"({r['lsd_log10_power_sq']:.2f}), MAE {r['param_mae']:.3f}{size}; {per}")
        print(f"over {args.seeds} seeds (mean ± sd):")
        for key in designs:
            lsd = np.array([r[key]["lsd_db"] for r in runs])
            paper = np.array([r[key]["lsd_log10_power_sq"] for r in runs])
            print(f"  {key:17s} LSD {lsd.mean():.2f} ± {lsd.std():.2f} dB ({paper.mean():.2f} ± {paper.std():.2f})")
        sep = np.array([r["separate-separate"]["lsd_db"] for r in runs])
        for key in designs[1:]:
            wins = int(np.sum(np.array([r[key]["lsd_db"] for r in runs]) < sep))
            print(f"  {key} below separate-separate in {wins} of {args.seeds} seeds")
        best = scores["best"]
        lowered, before, after, seconds = [], [], [], 0.0
        for synth, v in notes.items():  # one note per held-out patch: its middle pitch
            pick = np.flatnonzero(v["f0_hz"] == np.unique(v["f0_hz"])[len(np.unique(v["f0_hz"])) // 2])[:args.refine]
            sub = {k: (a[pick] if isinstance(a, np.ndarray) else a) for k, a in v.items()}
            t0 = time.perf_counter()
            r = synth_programming.refine(ctx, synth, sub, {**budget, "refine_notes": len(pick)})
            seconds += time.perf_counter() - t0
            b, a = np.array(r["before_db"]), np.array(r["after_db"])
            before += list(b)
            after += list(a)
            lowered += list(a < b)
            print(f"  refine {synth:15s} {len(b)} held-out patches: LSD {b.mean():.1f} → {a.mean():.1f} dB, "
                  f"lowered on {np.mean(a < b):.0%}")
        print(f"estimate ({best}, seed {args.seeds - 1}) + refine ({args.steps} steps) on {len(lowered)} held-out "
              f"patches: LSD {np.mean(before):.1f} → {np.mean(after):.1f} dB, lowered on {np.mean(lowered):.0%}, "
              f"{seconds / len(lowered):.1f} s per note")
        foreign(ctx, estimate, args)


def foreign(ctx, estimate, args) -> None:
    """Sounds no synth made — guitar-fx clean notes and instruments notes, the first second at 16 kHz — estimated
    by the best design and refined through each synth (``--steps``, one start): LSD of the estimate and after."""
    from dl4mir.synth.matching import match

    picks = [("guitar-fx", lambda c: c.labels["effect"] == "clean" and c.labels["pickup"] == "Middle"
              and c.labels["fret"] in (3, 10, 17)),
             ("instruments", lambda c: c.labels["instrument"] in ("Violin", "Flute", "Trumpet in C")
              and c.labels["midi"] == 69 and c.labels.get("dynamics") == "mf")]
    print(f"sounds no synth made, estimated by the best design then refined ({args.steps} steps): LSD dB")
    for data, keep in picks:
        clips = [c for c in ctx.dataset(data).clips if keep(c)][:3]
        for clip in clips:
            y, _ = clip.load(sr=16000)
            y = np.asarray(y[:16000], dtype=np.float32)
            row = []
            for synth in patches.SPACES:
                m = match(y, synth=synth, sr=16000, f0_hz=float(clip.labels["f0_hz"]), note_s=0.9, steps=args.steps,
                          restarts=1, init=estimate(y, 16000, synth), seed=0)
                row.append(f"{synth} {m.lsd_init['lsd_db']:5.1f} → {m.lsd_end['lsd_db']:5.1f}")
            print(f"  {data} {clip.clip_id:40s} " + "   ".join(row))


if __name__ == "__main__":
    main()
