"""Synthetic → real: how models trained only on guitar-fx do on real guitar (issue 12's measurement).

    python benchmarks/bench_transfer.py           # CNN on effect type, guitar-fx and guitar-fx-playing, default profile
    python benchmarks/bench_transfer.py --models cnn,crnn --epochs 3 --profile quick
    python benchmarks/bench_transfer.py --data guitar-fx-playing --seeds 3     # how much the figure moves by seed
    python benchmarks/bench_transfer.py --data guitar-fx --set "level=as rendered"      # a guitar-fx variant
    python benchmarks/bench_transfer.py --train class_weight=none --model-set input_norm=none   # the plain recipe

Real test material (read from ../shared/fixtures, which the project itself never needs):

* ``real_guitar_di/``: ten real DI guitar performances, cut into windows of the model's length that start at note
  onsets (energy-flux peaks, at least one window apart), peak-normalized like EGFxSet's recordings, each window heard
  clean and through one effect chain per effect type.  The chains are defined here with pedalboard's built-ins at
  settings unlike guitar-fx's (other drive, rates, delay times, rooms), so the test is not the synthesis code's
  own effects.
* ``egfxset_sample/``: the real EGFxSet clips (clean, tape echo) with their labels.

Every window goes through ``dl4mir.train.predict.effect_type_report``, the windows ``dl4mir predict`` takes.  Reported:
effect-type accuracy, recall per type (clean recall among them), the confusion matrix, and the same model's accuracy
on guitar-fx's held-out string.  Also a level-only probe: logistic regression on each guitar-fx clip's RMS, peak and
crest factor (dB), trained on the development strings and tested on the held-out string — how far loudness alone
gets on effect type.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pedalboard as pb
import soundfile as sf
from sklearn.linear_model import LogisticRegression

from dl4mir.audio import load
from dl4mir.config import parse_value
from dl4mir.data import get_dataset
from dl4mir.data.egfxset import EFFECT_BY_FOLDER, EFFECT_TYPES as TYPES, EFFECTS
from dl4mir.data.synth.effects import apply_effect
from dl4mir.data.registry import make_synthetic, synthetic_config
from dl4mir.data.splits import default_split
from dl4mir.metrics import classification_report
from dl4mir.train import train_model
from dl4mir.train.checkpoint import load_exported
from dl4mir.train.predict import effect_type_report

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
SR = 48000

# Effect chains written for this benchmark only (pedalboard built-ins, settings chosen away from guitar-fx's).
CHAINS = {
    "distortion": [
        lambda: [pb.HighpassFilter(cutoff_frequency_hz=90), pb.Distortion(drive_db=32), pb.LowpassFilter(5500)],
        lambda: [pb.Gain(gain_db=22), pb.Clipping(threshold_db=-14), pb.LowpassFilter(cutoff_frequency_hz=4200)],
        lambda: [pb.Distortion(drive_db=18), pb.PeakFilter(cutoff_frequency_hz=900, gain_db=6, q=0.8)],
    ],
    "modulation": [
        lambda: [pb.Chorus(rate_hz=0.8, depth=0.45, centre_delay_ms=12, feedback=0.1, mix=0.5)],
        lambda: [pb.Phaser(rate_hz=0.5, depth=0.8, centre_frequency_hz=800, feedback=0.5, mix=0.6)],
        lambda: [pb.Chorus(rate_hz=0.3, depth=0.7, centre_delay_ms=2.5, feedback=0.6, mix=0.5)],  # a flanger
    ],
    "delay": [
        lambda: [pb.Delay(delay_seconds=0.33, feedback=0.45, mix=0.4)],
        lambda: [pb.Delay(delay_seconds=0.21, feedback=0.3, mix=0.35), pb.LowpassFilter(cutoff_frequency_hz=3000)],
        lambda: [pb.Delay(delay_seconds=0.42, feedback=0.55, mix=0.45)],
    ],
    "reverb": [
        lambda: [pb.Reverb(room_size=0.85, damping=0.3, wet_level=0.45, dry_level=0.7)],
        lambda: [pb.Reverb(room_size=0.6, damping=0.7, wet_level=0.35, dry_level=0.8, width=0.5)],
        lambda: [pb.Reverb(room_size=0.95, damping=0.5, wet_level=0.55, dry_level=0.6)],
    ],
}


def onset_windows(y: np.ndarray, sr: int, window_s: float, *, max_windows: int = 6) -> list[np.ndarray]:
    """Windows of ``window_s`` starting at note onsets: peaks of the positive log-energy change over 30 ms, at
    least one window apart, loudest first."""
    hop = int(0.01 * sr)
    frames = len(y) // hop
    energy = np.log10(1e-10 + np.array([np.mean(y[i * hop:(i + 1) * hop] ** 2) for i in range(frames)]))
    flux = np.maximum(0, energy[3:] - energy[:-3])
    order = np.argsort(flux)[::-1]
    n = int(window_s * sr)
    starts: list[int] = []
    for f in order:
        s = (f + 3) * hop
        if flux[f] < 0.5 or len(starts) >= max_windows:
            break
        if s + n <= len(y) and all(abs(s - t) >= n for t in starts):
            starts.append(s)
    return [y[s:s + n] for s in sorted(starts)]


def di_tracks() -> list[Path]:
    return sorted((SHARED / "real_guitar_di").glob("*.flac"))


def real_set(out: Path, window_s: float, rng: np.random.Generator, tracks=None, egfxset: bool = True
             ) -> dict[Path, str]:
    """Write the real test windows of ``tracks`` (default: all ten) as WAVs; ``{path: effect type}``, with the
    real EGFxSet clips unless ``egfxset`` is false."""
    labels = {}
    out.mkdir(parents=True, exist_ok=True)
    for src in tracks or di_tracks():
        y, sr = load(src, sr=SR)
        for k, w in enumerate(onset_windows(y, sr, window_s)):
            w = 0.9 * w / max(np.abs(w).max(), 1e-9)
            for etype in TYPES:
                if etype == "clean":
                    z = w
                else:
                    chain = CHAINS[etype][rng.integers(len(CHAINS[etype]))]()
                    z = pb.Pedalboard(chain)(w.astype(np.float32), SR)
                z = 0.9 * z / max(np.abs(z).max(), 1e-9)  # every class at the same peak, as EGFxSet
                path = out / f"{src.stem}_{k}_{etype}.wav"
                sf.write(str(path), z, SR, subtype="PCM_24")
                labels[path] = etype
    for path in sorted((SHARED / "egfxset_sample").glob("*/*/*.wav")) if egfxset else ():
        labels[path] = EFFECT_BY_FOLDER[path.parts[-3]].effect_type
    return labels


def real_dry_set(out: Path, window_s: float, tracks, rng: np.random.Generator, effects: str = "guitar-fx") -> Path:
    """Training data from real dry guitar: every half window of ``tracks`` (quiet ones skipped), clean and through
    each of guitar-fx's 12 effects at varied knobs (``effects="guitar-fx"``) or each of this benchmark's 12 chains
    (``"benchmark"``: the test's own implementations and settings, a ceiling), 16 kHz, as ``folder:`` data
    labelled by effect type."""
    sr = 16000
    if effects == "guitar-fx":
        versions = [(e.effect_type, e.folder, lambda w, folder=e.folder: apply_effect(folder, w, sr, rng, vary=True))
                    for e in EFFECTS]
    else:
        versions = [("clean", "clean", lambda w: w)] + [
            (etype, f"{etype}{j}", lambda w, make=make: pb.Pedalboard(make())(w.astype(np.float32), sr))
            for etype, chains in CHAINS.items() for j, make in enumerate(chains)]
    for src in tracks:
        y, _ = load(src, sr=sr)
        n = int(window_s * sr)
        for k, start in enumerate(range(0, len(y) - n + 1, n // 2)):
            w = y[start:start + n]
            if np.sqrt(np.mean(w ** 2)) < 1e-3:
                continue
            for etype, name, effect in versions:
                z = effect(w)
                (out / etype).mkdir(parents=True, exist_ok=True)
                sf.write(str(out / etype / f"{src.stem}_{k}_{name}.wav"), 0.9 * z / max(np.abs(z).max(), 1e-9), sr)
    return out


def score(export: Path, labels: dict) -> dict:
    """Effect-type report of an exported model on ``{path: type}``, through the windows of ``dl4mir predict``."""
    rep = effect_type_report(*load_exported(export), labels, source=export)
    for path, cause in rep["failures"]:
        print(f"  FAILED {path}: {cause}")
    return rep


def real_dry_ceiling(tmp: Path, window_s: float, args, training: dict, model_config: dict, exports: dict) -> None:
    """How much of the gap is the dry guitar: the same recipe trained on five real DI tracks through guitar-fx's
    own effects, tested on the other five through this benchmark's chains, beside each guitar-fx model on them; and
    the ceiling of the recipe: the five tracks through this benchmark's own chains (other windows, other draws)."""
    tracks = di_tracks()
    train_tracks, test_tracks = tracks[::2], tracks[1::2]
    test = real_set(tmp / "real-dry-test", window_s, np.random.default_rng(args.seed + 1), test_tracks, False)
    for effects, name in (("guitar-fx", "guitar-fx's effects"), ("benchmark", "this benchmark's chains (ceiling)")):
        data = real_dry_set(tmp / f"real-dry-{effects}", window_s, train_tracks, np.random.default_rng(args.seed),
                            effects)
        for model in args.models.split(","):
            out = tmp / f"real-dry-{effects}-{model}"
            train_model(model, "label", data=f"folder:{data}", out=out, resume="fresh", model_config=model_config,
                        train={"epochs": args.epochs, "seed": args.seed, "progress": False, **training})
            exports[f"real DI tracks ({len(train_tracks)}) + {name}"] = (model, out / "export")
    print(f"\nthe gap's share that is the dry guitar: trained on ..., tested on the other {len(test_tracks)} DI "
          f"tracks ({', '.join(t.stem for t in test_tracks)}) through this benchmark's chains ({len(test)} windows)")
    for name, (model, export) in exports.items():
        rep = score(export, test)
        print(f"  {name:54s} {model:6s} real {rep['accuracy']:6.1%}  recall "
              + ", ".join(f"{k} {rep['recall'][k]:.0%}" for k in TYPES))


def level_probe(data: str) -> dict:
    """Effect-type accuracy on the held-out string from loudness features alone."""
    ds = get_dataset(data)
    plan = default_split(ds)
    test = set(plan.test)
    feats, types, is_test = [], [], []
    for c in ds.clips:
        y, _ = c.load()
        rms, peak = np.sqrt(np.mean(y ** 2)) + 1e-12, np.abs(y).max() + 1e-12
        feats.append([20 * np.log10(rms), 20 * np.log10(peak), 20 * np.log10(peak / rms)])
        types.append(c.labels["effect_type"])
        is_test.append(c.clip_id in test)
    X, y, t = np.array(feats), np.array(types), np.array(is_test)
    out = {}
    for name, cols in (("RMS (level)", [0]), ("RMS + peak", [0, 1]), ("RMS + peak + crest factor", [0, 1, 2])):
        clf = LogisticRegression(max_iter=2000).fit(X[~t][:, cols], y[~t])
        rep = classification_report(y[t], clf.predict(X[t][:, cols]))
        out[name] = (rep["accuracy"], rep["balanced_accuracy"])
    share = {k: float(np.mean(y[t] == k)) for k in TYPES}
    out["chance (majority)"] = (max(share.values()), 1 / len(TYPES))
    return out


def report(synth: dict, rep: dict, title: str, name: str) -> None:
    print(f"\n{title}")
    print(f"  {name} held-out string: effect-type accuracy {synth['accuracy']:.1%}; recall "
          + ", ".join(f"{k} {synth['per_class'][k]['recall']:.0%}" for k in TYPES))
    print(f"  real guitar ({rep['n_files']} windows and clips): effect-type accuracy {rep['accuracy']:.1%}, "
          f"balanced {rep['balanced_accuracy']:.1%}")
    print("  recall per type: " + ", ".join(f"{k} {rep['recall'][k]:.0%}" for k in TYPES))
    print("  confusion (rows: true, columns: predicted, order " + ", ".join(TYPES) + ")")
    for k, row in zip(TYPES, rep["confusion_matrix"]):
        print(f"    {k:11s} " + " ".join(f"{v:4d}" for v in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="guitar-fx,guitar-fx-playing",
                        help="comma-separated synthetic guitar datasets to train on (default: %(default)s)")
    parser.add_argument("--models", default="cnn", help="comma-separated models (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs per model (default: %(default)s)")
    parser.add_argument("--profile", default="default", help="dataset profile (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of training and of the chains (default: 0)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="train each guitar-fx model with this many seeds from --seed on, one test set; prints "
                             "the mean, min and max (default: %(default)s)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="a guitar-fx config field for this run, e.g. playing=phrases; a comma makes a tuple: "
                             "pickup_types=single-coil,humbucker (default: none)")
    parser.add_argument("--train", action="append", default=["class_weight=balanced"], metavar="KEY=VALUE",
                        help="a training setting, e.g. augment=true; later ones win (default: class_weight=balanced)")
    parser.add_argument("--model-set", action="append", default=["input_norm=band mean"], metavar="KEY=VALUE",
                        help="a model setting; later ones win (default: 'input_norm=band mean')")
    parser.add_argument("--real-dry", action="store_true",
                        help="also train on half the real DI tracks through guitar-fx's effects, and through this "
                             "benchmark's own chains (the recipe's ceiling), and compare on the other half: how much "
                             "of the gap is the dry guitar (default: off)")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    if not (SHARED / "real_guitar_di").is_dir():
        raise SystemExit(f"{SHARED}: the real fixtures are needed for this benchmark")
    overrides = {k: tuple(parse_value(p) for p in v.split(",")) if "," in v else v
                 for k, v in (item.split("=", 1) for item in args.set)}
    training = {k: parse_value(v) for k, v in (item.split("=", 1) for item in args.train)}
    model_config = {k: parse_value(v) for k, v in (item.split("=", 1) for item in args.model_set)}
    summary, exports = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in args.data.split(","):
            config = synthetic_config(name, args.profile, **overrides)
            data = f"guitar-fx:{make_synthetic(name, config=config)}"
            print(f"\n{name} ({args.profile}{''.join(', ' + s for s in args.set)}): {data}")
            print("level-only probe on effect type (held-out string): accuracy, balanced accuracy")
            for probe, (acc, bal) in level_probe(data).items():
                print(f"  {probe:28s} {acc:6.1%}  {bal:6.1%}")
            for model in args.models.split(","):
                for seed in range(args.seed, args.seed + args.seeds):
                    out = tmp / f"{name}-{model}-{seed}"
                    trained = train_model(model, "effect_type", data=data, out=out, resume="fresh",
                                          model_config=model_config,
                                          train={"epochs": args.epochs, "seed": seed, "progress": False, **training})
                    window_s = trained.data.feature_spec.duration_s
                    real_dir = tmp / f"real-{window_s}"
                    if not real_dir.is_dir():  # one test set for every seed: the chains drawn with --seed
                        real_dir.mkdir()
                        labels = real_set(real_dir, window_s, np.random.default_rng(args.seed))
                    rep = score(out / "export", labels)
                    if seed == args.seed:
                        exports[name if len(args.models.split(",")) == 1 else f"{name} {model}"] = (model,
                                                                                                  out / "export")
                    report(trained.summary["test"], rep, f"{model}, {args.epochs} epochs on {name} ({args.profile}"
                           f"{''.join(', ' + s for s in args.train + args.model_set)}), seed {seed}, window "
                           f"{window_s} s", name)
                    summary.append((name, model, seed, trained.summary["test"]["accuracy"], rep["accuracy"],
                                    rep["recall"]["clean"]))
        if args.real_dry:
            real_dry_ceiling(tmp, window_s, args, training, model_config, exports)
    print("\nside by side: trained on, model, seed, synthetic held-out string, real guitar, real clean recall")
    for name, model, seed, synth_acc, real_acc, clean in summary:
        print(f"  {name:18s} {model:6s} {seed:4d} {synth_acc:6.1%} {real_acc:6.1%} {clean:6.1%}")
    if args.seeds > 1:
        print(f"over {args.seeds} training seeds: mean (min–max)")
        for name, model in dict.fromkeys((row[0], row[1]) for row in summary):
            cols = np.array([row[3:] for row in summary if row[:2] == (name, model)])
            print(f"  {name:18s} {model:6s} " + "   ".join(
                f"{label} {c.mean():.1%} ({c.min():.1%}–{c.max():.1%})"
                for label, c in zip(("synthetic", "real", "real clean"), cols.T)))


if __name__ == "__main__":
    main()
