"""Audio-visual (issue 17's targets) on ``av-scenes``: dataset generation speed; Sound of Pixels (ratio and binary
masks) after longer training than the lesson's, against NMF-MFCC and the ideal ratio mask on held-out mixtures of 2
and 3; localization cIoU / AUC of both maps with and without motion against the sounding pixels (and boxes), beside
a perfect map on the models' 8-px grid and the motion map alone; polyphonic macro F1 of the CNN and of the MFCC
baseline; separation time of one 3 s clip on the CPU.

    python benchmarks/bench_audio_visual.py [--profile default] [--sop-epochs 20] [--poly-epochs 30]
"""
from __future__ import annotations

import argparse
import json
import shutil
import time

import numpy as np
import torch

from dl4mir.data import get_dataset
from dl4mir.data.registry import synthetic_config, synthetic_root
from dl4mir.lessons import audio_visual as lesson
from dl4mir.train import audio_visual as AV
from dl4mir.train import train_model
from dl4mir.train.scenes import load_scenes, prepare_scenes, read_scene

TARGETS = {"sdr_n2_db": 7.5, "sdr_over_nmf_db": 3.0, "ciou@0.5": 0.5, "polyphonic_macro_f1": 0.85,
           "generation_x_realtime": 50.0, "separate_3s_s": 0.5}
SR, N = lesson.SR, lesson.N_SAMPLES


def generation_speed(profile: str) -> dict:
    cfg = synthetic_config("av-scenes", profile)
    root = synthetic_root("av-scenes", cfg)
    shutil.rmtree(root, ignore_errors=True)
    t = time.perf_counter()
    get_dataset("av-scenes", profile=profile)
    seconds = time.perf_counter() - t
    n = len(cfg.tasks())
    return {"clips": n, "seconds": seconds, "audio_s": n * cfg.duration_s, "frames": n * cfg.n_frames,
            "x_realtime": n * cfg.duration_s / seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default", help="av-scenes profile (default: %(default)s)")
    ap.add_argument("--sop-epochs", type=int, default=20, help="epochs of each Sound of Pixels (default: %(default)s)")
    ap.add_argument("--localizer-epochs", type=int, default=10, help="epochs of av-localizer (default: %(default)s)")
    ap.add_argument("--poly-epochs", type=int, default=30, help="epochs of the polyphonic CNN (default: %(default)s)")
    ap.add_argument("--mixtures", type=int, default=48, help="held-out mixtures per size (default: %(default)s)")
    ap.add_argument("--parts", default="generation,separation,localization,polyphonic",
                    help="what to measure, comma-separated (default: %(default)s)")
    ap.add_argument("--masks", default="ratio,binary",
                    help="which Sound of Pixels to train for separation, comma-separated (default: %(default)s)")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file (default: none)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    masks = {"ratio": "sound-of-pixels", "binary": "sound-of-pixels-binary"}
    chosen = args.masks.split(",")
    unknown = set(chosen) - set(masks)
    if unknown:
        ap.error(f"--masks: unknown {', '.join(sorted(unknown))}; choose from ratio, binary")
    torch.set_num_threads(2)
    out = {}
    if "generation" in parts:
        out["generation"] = generation_speed(args.profile)
        print(f"generation: {out['generation']}", flush=True)
    scenes = load_scenes("av-scenes", sr=SR, n_samples=N, n_frames_in=3, frame_size=112, profile=args.profile)
    train = {"resumable": False, "patience": 99, "export": "none", "progress": False}
    models = {}
    names = [masks[m] for m in chosen] if "separation" in parts else []
    if "localization" in parts and "sound-of-pixels" not in names:  # its maps are localized too
        names.append("sound-of-pixels")
    for name in names:
        data = prepare_scenes(kind="scenes", sr=SR, n_samples=N, scenes=scenes, crop_samples=SR)
        r = train_model(name, data, out=f"/tmp/bench_av/{name}", resume="fresh",
                        train={**train, "epochs": args.sop_epochs, "batch_size": 16, "lr": 5e-3})
        models[name] = r.model
        if "separation" not in parts:
            continue
        sep = {}
        for n in (2, 3):
            groups = AV.mixtures_of(scenes, "test", n=n, count=args.mixtures)
            rep = AV.separation_scores(r.model, scenes, groups, nmf_count=args.mixtures if name.endswith("pixels")
                                       else 0)
            sep[n] = {k: v for k, v in rep.items() if k != "per_mixture_sdr"}
        out[name] = {"steps": r.summary["steps"], "train_seconds": r.summary["seconds"], "separation": sep}
        print(f"{name}: {json.dumps(out[name], default=float)}", flush=True)
    if "localization" in parts:
        localization(args, scenes, models["sound-of-pixels"], train, out)
    if "polyphonic" in parts:
        polyphonic(args, scenes, train, out)
    if models:
        out["separate_3s_s"] = separation_time(next(iter(models.values())), scenes)
        print(f"separating a 3 s mixture of 2 on the CPU: {out['separate_3s_s'] * 1000:.0f} ms (median of 10)")
    summary(out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=float)


def localization(args, scenes, sop, train: dict, out: dict) -> None:
    pairs = prepare_scenes(kind="scenes", sr=SR, n_samples=N, scenes=scenes, crop_samples=SR, n_mix=1)
    loc_model = train_model("av-localizer", pairs, out="/tmp/bench_av/av-localizer", resume="fresh",
                            train={**train, "epochs": args.localizer_epochs, "batch_size": 32, "lr": 3e-3})
    read = []
    for clip in scenes.held_out:
        s = read_scene(clip, sr=SR, n_samples=N)
        s["motion"] = AV.motion_map(s["frames"])
        read.append((clip, s))
    out["localization"] = {}
    for name, m in (("sound-of-pixels", sop), ("av-localizer", loc_model.model)):
        rep = AV.localization_scores(m, read)
        out["localization"][name] = {k: v for k, v in rep.items() if k != "per_scene"}
        print(f"localization {name}: {json.dumps(out['localization'][name], default=float)}", flush=True)
    out["localization_references"] = AV.localization_references(read)
    print(f"localization references: {json.dumps(out['localization_references'], default=float)}", flush=True)


def polyphonic(args, scenes, train: dict, out: dict) -> None:
    mixtures = prepare_scenes(kind="mixtures", sr=SR, n_samples=N, scenes=scenes, crop_samples=SR)
    poly = train_model("polyphonic", mixtures, out="/tmp/bench_av/polyphonic", resume="fresh",
                       train={**train, "epochs": args.poly_epochs, "batch_size": 32, "lr": 1e-2})
    cnn, mfcc = AV.recognize(poly.model, mixtures), AV.mfcc_logistic_baseline(mixtures, n_train=4000)
    out["polyphonic"] = {"cnn_macro_f1": cnn["macro_f1"], "cnn_mAP": cnn["mAP"], "mfcc_macro_f1": mfcc["macro_f1"],
                         "mfcc_mAP": mfcc["mAP"], "steps": poly.summary["steps"],
                         "train_seconds": poly.summary["seconds"]}
    print(f"polyphonic: {out['polyphonic']}", flush=True)


def separation_time(m, scenes) -> float:
    g = AV.mixtures_of(scenes, "test", n=2, count=1)[0]
    frames, mix = torch.from_numpy(scenes.frames[g])[None], torch.from_numpy(scenes.audio[g].sum(0))[None]
    m.separate(frames, mix)
    times = []
    for _ in range(10):
        t = time.perf_counter()
        m.separate(frames, mix)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def summary(out: dict) -> None:
    rows = []
    if "sound-of-pixels" in out and "separation" in out["sound-of-pixels"]:
        s2 = out["sound-of-pixels"]["separation"][2]
        rows += [("SDR, mixtures of 2 (dB)", s2["model"]["sdr_db"], TARGETS["sdr_n2_db"], True),
                 ("SDR above NMF-MFCC (dB)", s2["model"]["sdr_db"] - s2["nmf"]["sdr_db"], TARGETS["sdr_over_nmf_db"],
                  True), ("separate a 3 s clip (s)", out["separate_3s_s"], TARGETS["separate_3s_s"], False)]
    if "localization" in out:
        for label, keys in (("cIoU@0.5, best map (sounding pixels)", ("sound", "sound+motion")),
                            ("cIoU@0.5, best map refined by GrabCut", ("sound, refined", "sound+motion, refined"))):
            best = max(v["all"][k]["ciou@0.5"] for v in out["localization"].values() for k in keys)
            rows.append((label, best, TARGETS["ciou@0.5"], True))
        rows.append(("  (motion alone, no sound, refined)", out["localization_references"]["all"]
                     ["motion alone, refined"]["ciou@0.5"], TARGETS["ciou@0.5"], True))
    if "polyphonic" in out:
        rows.append(("polyphonic macro F1 (CNN)", out["polyphonic"]["cnn_macro_f1"], TARGETS["polyphonic_macro_f1"],
                     True))
    if "generation" in out:
        rows.append(("generation (× realtime)", out["generation"]["x_realtime"], TARGETS["generation_x_realtime"],
                     True))
    print(f"\n{'target':40s} {'value':>9s} {'target':>9s}   met")
    for label, value, target, higher in rows:
        met = value >= target if higher else value <= target
        print(f"{label:40s} {value:9.3f} {target:9.3f}   {'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
