"""Audio–language models side by side on the held-out guitar string with held-out wordings (issue 15's targets):
CLAP (InfoNCE), CLAP with content-aware targets, Wav2CLIP-style distillation (each over ``--seeds``), and the
supervised CNN on the same clips; the lesson's captioners (ClipCap with an MLP and with a transformer mapping, and
the retrieval baseline) on the first seed's CLAP; then search latency over cached embeddings at several index
sizes.

    python benchmarks/bench_audio_language.py [--profile default] [--epochs 5] [--seeds 0,1,2]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from dl4mir.data.egfxset import effect_type_of
from dl4mir.lessons import audio_language, notebook_context
from dl4mir.lessons.budgets import AUDIO_LANGUAGE, per_profile
from dl4mir.train import retrieval as R
from dl4mir.train import train_model
from dl4mir.train.data import prepare, prepare_captions
from dl4mir.train.loop import predict

TARGETS = {"effect": 0.75, "effect_type": 0.90, "p_at_10": 0.90}
CAPTION_TARGET = 0.80  # captions naming the held-out note's effect
CLAPS = ("clap", "clap-content-aware", "clap-distill")


def scores(model, data) -> dict:
    """The lesson's measures of one model on the held-out string (``dl4mir.lessons.audio_language``)."""
    rows, emb = audio_language.embeddings(model, data, "test")
    zs = audio_language.zero_shot_scores(model, data, rows, emb)
    out = {key: zs[key]["accuracy"] for key in ("effect", "effect_type", "effect_type_names")}
    out.update(probe=zs["probe_effect"], p_at_10=audio_language.effect_queries(model, data, rows, emb)["mean"],
               p_at_10_generic=audio_language.effect_queries(model, data, rows, emb, templates=R.TEMPLATES)["mean"],
               effect_generic=R.zero_shot_report(model, emb, data.labels["effect"][rows],
                                                 {e: e for e in sorted(set(map(str, data.labels["effect"])))})["accuracy"])
    # the effect type scored by the mean of its effects' vectors (the rule before the union's maximum), for reference
    types = data.labels["effect_type"][rows]
    described = R.members(data.labels, "effect_type", "effect")
    mean_rule = np.asarray(emb) @ R.class_vectors(model, list(described.values()), templates=audio_language.PROMPTS).T
    out["effect_type_mean_rule"] = float(np.mean(np.array(list(described))[mean_rule.argmax(axis=1)] == types))
    exact = R.caption_retrieval(model, data, rows, emb)
    for way in ("text_to_audio", "audio_to_text"):
        rep = exact[way]
        out.update({f"{way}_{k}": rep[k] for k in ("R@1", "R@5", "R@10", "median_rank", "chance_R@10",
                                                   "chance_median_rank")})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default", help="guitar-fx profile (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=5, help="epochs of each model (default: %(default)s)")
    ap.add_argument("--seeds", default="0", help="comma-separated training seeds of the CLAP models (default: %(default)s)")
    ap.add_argument("--skip-captioning", action="store_true", help="leave the captioners out (default: run them)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    seeds = [int(s) for s in args.seeds.split(",")]
    data = prepare_captions("guitar-fx", profile=args.profile, per_clip=per_profile(AUDIO_LANGUAGE, args.profile)["per_clip"])
    print(data.describe())
    runs, models = {}, {}
    train = {"epochs": args.epochs, "batch_size": 64, "lr": 3e-3, "resumable": False, "patience": 99,
             "export": "none", "progress": False}
    for name in CLAPS:
        for seed in seeds:
            t0 = time.perf_counter()
            model = train_model(name, data, out=f"/tmp/bench_al/{name}-{seed}", train={**train, "seed": seed},
                                resume="fresh").model
            runs.setdefault(name, []).append({**scores(model, data), "seconds": time.perf_counter() - t0})
            models.setdefault(name, model)
    table = {name: {k: statistics.mean(r[k] for r in rows) for k in rows[0]} for name, rows in runs.items()}
    spread = {name: {k: statistics.pstdev(r[k] for r in rows) for k in rows[0]} for name, rows in runs.items()}
    # the supervised reference: the course CNN trained on the effect labels of the same clips
    t0 = time.perf_counter()
    sup = prepare("effect", profile=args.profile)
    cnn = train_model("cnn", sup, out="/tmp/bench_al/cnn", resume="fresh",
                      train={**train, "batch_size": 32}).model
    rows = sup.rows("test")
    pred = [sup.classes[i] for i in predict(cnn, sup, rows, device="cpu").argmax(1)]
    truth = [sup.classes[i] for i in sup.targets(rows)]
    table["cnn (supervised)"] = {"effect": float(np.mean([p == t for p, t in zip(pred, truth)])),
                                 "effect_type": float(np.mean([effect_type_of(p) == effect_type_of(t)
                                                               for p, t in zip(pred, truth)])),
                                 "seconds": time.perf_counter() - t0}

    cols = ("effect", "effect_generic", "effect_type", "effect_type_mean_rule", "effect_type_names", "probe", "p_at_10",
            "p_at_10_generic",
            "text_to_audio_R@10", "text_to_audio_median_rank", "audio_to_text_R@10", "audio_to_text_median_rank",
            "seconds")
    print(f"\nmean over seeds {seeds} (± population sd where several)")
    print("| model | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))
    for name, row in table.items():
        cell = lambda c: ("—" if c not in row else f"{row[c]:.0f}" if c == "seconds" else f"{row[c]:.3f}"  # noqa: E731
                          + (f" ± {spread[name][c]:.3f}" if len(seeds) > 1 and name in spread else ""))
        print(f"| {name} | " + " | ".join(cell(c) for c in cols) + " |")
    clap = table["clap"]
    print(f"\nchance: effect {1 / 13:.3f}, effect type 0.200; text→audio R@10 {clap['text_to_audio_chance_R@10']:.3f}, "
          f"median rank {clap['text_to_audio_chance_median_rank']:.0f}; audio→text R@10 "
          f"{clap['audio_to_text_chance_R@10']:.3f}, median rank {clap['audio_to_text_chance_median_rank']:.0f}")
    for name in CLAPS:
        for seed, r in zip(seeds, runs[name]):
            missed = [f"{k} {r[k]:.3f} < {bar}" for k, bar in TARGETS.items() if r[k] < bar]
            print(f"targets {name} seed {seed}: {'all met' if not missed else 'MISSED ' + ', '.join(missed)}")

    if not args.skip_captioning:
        ctx = notebook_context("audio-language", profile=args.profile, out="/tmp/bench_al/captioning")
        budget = {**per_profile(AUDIO_LANGUAGE, args.profile), "captioners": ("clipcap", "clipcap-transformer")}
        got = audio_language.captioning(ctx, data, models[audio_language.CLAP_MODEL], budget)
        print(f"\ncaptioning the held-out string ({len(data.rows('test'))} notes), on the {audio_language.CLAP_MODEL} "
              f"of seed {seeds[0]}; references: each note's training-wording captions")
        print("| captioner | effect | pickup | register (named / right when named) | BLEU-4 | CIDEr-D | train s |\n"
              "|---|---|---|---|---|---|---|")
        for name, g in got.items():
            a = g["attributes"]
            print(f"| {audio_language.CAPTIONERS[name]} | {a['effect']['accuracy']:.3f} | {a['pickup']['accuracy']:.3f} "
                  f"| {a['register']['named']:.3f} / {a['register']['precision']:.3f} | {g['bleu4']:.1f} | "
                  f"{g['cider']:.3f} | {g['seconds']:.0f} |")
        best = max(g["attributes"]["effect"]["accuracy"] for n, g in got.items() if n != "retrieval")
        print(f"target caption effect >= {CAPTION_TARGET}: best ClipCap {best:.3f} "
              f"({'met' if best >= CAPTION_TARGET else 'MISSED'})")
    model = train_model("clap", data, out="/tmp/bench_al/clap-latency", resume="fresh",
                        train={**train, "epochs": 1, "max_steps": 1}).model
    for n in (10_000, 100_000, 1_000_000):
        print(f"search over {n:>9,} cached embeddings: {R.search_latency_ms(model, n_items=n, repeats=10):.1f} ms "
              "median per query")


if __name__ == "__main__":
    main()
