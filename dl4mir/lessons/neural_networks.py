"""Lessons 7, 8 and 11: feed-forward, convolutional, recurrent and attention models on the course's task — which
effect is on this guitar note? — trained with the one training loop on the same leakage-free split (test: a
held-out guitar string; validation: another), compared side by side."""
from __future__ import annotations

import numpy as np

from dl4mir.data.egfxset import EFFECTS
from dl4mir.lessons.budgets import epochs
from dl4mir.metrics import classification_report
from dl4mir.models import input_kind
from dl4mir.report import plots
from dl4mir.train.data import prepare
from dl4mir.train.loop import pick_device, predict
from dl4mir.train.predict import real_guitar_report

MODELS = ("mlp", "cnn", "waveform-cnn", "crnn", "transformer")
HEADLINE = {"best_model": "best model on the held-out string",
            "best_effect_accuracy": "its effect accuracy (13 classes)",
            "best_effect_type_accuracy": "its effect-type accuracy (5 classes)",
            "best_real_effect_type_accuracy": "its effect-type accuracy on your real recordings (--real-guitar)",
            "best_real_clean_recall": "real clean recordings it calls clean",
            **{f"{n}_accuracy": f"{n}: effect accuracy on the held-out string" for n in MODELS}}


def course_data(ctx) -> dict:
    """The effect task on the guitar data, as log-mel spectrograms and as waveforms, with the course split."""
    return {kind: prepare("effect", input_kind=kind, data=ctx.guitar, profile=ctx.profile, test_group=ctx.test_group,
                          show_progress=ctx.show_progress) for kind in ("logmel", "waveform")}


def train_and_test(ctx, data: dict, name: str, n_epochs: int) -> dict:
    """Train one model through the library's entry point and score it on the held-out string: effect and
    effect-type accuracy, calibration, size, time, and its validation curve."""
    d = data[input_kind(name)]
    trained = ctx.train(name, d, epochs=n_epochs)
    summary = trained.summary
    rows = d.rows("test")
    logits = predict(trained.model, d, rows, device=pick_device("auto"))
    classes = np.array(d.classes)
    pred, true = classes[logits.argmax(1).numpy()], classes[d.targets(rows).numpy()]
    type_of = {e.name: e.effect_type for e in EFFECTS}
    types = classification_report([type_of[t] for t in true], [type_of[p] for p in pred])
    # the user's own real recordings, when given: the same model through `dl4mir predict`'s windows
    real = real_guitar_report(trained.model, d.export_meta(trained.model), ctx.real_guitar) if ctx.real_guitar else None
    return {"test_accuracy": summary["test"]["accuracy"], "effect_type_accuracy": types["accuracy"],
            "real_guitar": real,
            "balanced_accuracy": summary["test"]["balanced_accuracy"], "ece": summary["test"]["ece"],
            "parameters": sum(p.numel() for p in trained.model.parameters()), "epochs": summary["epochs"],
            "train_seconds": summary["seconds"], "report": summary["test"],
            "curve": ([e["epoch"] for e in summary["epoch_log"]], [e["val_accuracy"] for e in summary["epoch_log"]])}


def run(ctx) -> dict:
    data = course_data(ctx)
    results = {}
    for name, n_epochs in epochs("neural-networks", ctx.profile).items():
        results[name] = train_and_test(ctx, data, name, n_epochs)
        print(f"  {name}: test accuracy {results[name]['test_accuracy']:.4f} in {results[name]['train_seconds']:.0f} s",
              flush=True)
    best_name = max(results, key=lambda n: results[n]["test_accuracy"])  # the first of equals, in course order
    plots.lines(ctx.figure("learning_curves", "Validation accuracy per epoch (validation = a held-out string)"),
                {n: r["curve"] for n, r in results.items()}, title="Learning curves, effect classification",
                xlabel="epoch", ylabel="validation accuracy")
    best = results[best_name]["report"]
    plots.confusion(ctx.figure("confusion_best", f"Confusion matrix of the best model ({best_name}) on the test string"),
                    best["confusion_matrix"], best["labels"], title=f"{best_name}: held-out string")
    names = list(results)
    plots.bars(ctx.figure("accuracy_by_model", "Test accuracy (13 effects) per model family"), names,
               [results[n]["test_accuracy"] for n in names], title="Effect accuracy on the held-out string",
               ylabel="accuracy")
    headline = {"best_model": best_name, "best_effect_accuracy": results[best_name]["test_accuracy"],
                "best_effect_type_accuracy": results[best_name]["effect_type_accuracy"],
                **{f"{n}_accuracy": r["test_accuracy"] for n, r in results.items()}}
    real = results[best_name]["real_guitar"]
    if real is not None:
        plots.bars(ctx.figure("real_vs_synthetic", "Effect-type accuracy per model: the held-out synthetic string "
                                                   "beside your real recordings (--real-guitar)"),
                   [f"{n} {where}" for n in names for where in ("synthetic", "real")],
                   [v for n in names for v in (results[n]["effect_type_accuracy"],
                                               results[n]["real_guitar"]["accuracy"])],
                   title="Synthetic held-out string vs real guitar", ylabel="effect-type accuracy")
        plots.confusion(ctx.figure("confusion_real", f"{best_name} on the real recordings (effect types)"),
                        real["confusion_matrix"], real["labels"], title=f"{best_name}: real guitar")
        headline["best_real_effect_type_accuracy"] = real["accuracy"]
        if "clean" in real["recall"]:
            headline["best_real_clean_recall"] = real["recall"]["clean"]
    table = {n: {k: v for k, v in r.items() if k not in ("report", "curve")} for n, r in results.items()}
    d = data["logmel"]
    return {
        "headline": headline,
        "table": table, "class_balance": d.class_balance(),
        "split": {"train": len(d.rows("train")), "val": len(d.rows("val")), "test": len(d.rows("test"))},
        "answer": answer(results) + (" " + real_answer(results, best_name) if real is not None else ""),
    }


def answer(results: dict) -> str:
    """The lesson's conclusion, read off this run's numbers (not written in advance)."""
    mlp = results["mlp"]
    others = {n: r for n, r in results.items() if n != "mlp"}
    best = max(others, key=lambda n: others[n]["test_accuracy"])
    b = others[best]
    if b["test_accuracy"] > mlp["test_accuracy"]:
        return (f"The {best} ({b['parameters']:,} parameters) beats the flat MLP ({mlp['parameters']:,}) on a string "
                f"neither heard: {b['test_accuracy']:.1%} against {mlp['test_accuracy']:.1%}. Structure (weight "
                "sharing over time and frequency, recurrence, attention) matters more than size.")
    return (f"In this run the flat MLP ({mlp['test_accuracy']:.1%}) is not beaten by the best structured model, "
            f"{best} ({b['test_accuracy']:.1%}): with this few epochs or clips, the bigger models have not converged "
            "yet — compare the learning curves, or run the default profile.")


def real_answer(results: dict, best_name: str) -> str:
    """What the real recordings say, read off this run's numbers."""
    best = results[best_name]
    real = best["real_guitar"]
    gap = best["effect_type_accuracy"] - real["accuracy"]
    chance = 1 / max(len(real["recall"]), 1)
    worst = min(real["recall"], key=real["recall"].get)
    return (f"On your {real['n_files']} real recordings the {best_name} names the effect type of "
            f"{real['accuracy']:.0%} (balanced {real['balanced_accuracy']:.0%}; chance about {chance:.0%}), against "
            f"{best['effect_type_accuracy']:.0%} on the synthetic string it never heard"
            + (f": {gap:.0%} lower. Synthetic notes teach part of what an effect is, not all of it; its weakest type "
               f"on real audio is {worst} ({real['recall'][worst]:.0%} recall)." if gap > 0.1 else
               ": the synthetic data transferred.")
            + (f" {len(real['failures'])} file(s) could not be read." if real["failures"] else ""))
