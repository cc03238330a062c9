"""Lessons 7, 8 and 11: feed-forward, convolutional, recurrent and attention models on the course's task — which
effect is on this guitar note? — trained with the one training loop on the same leakage-free split (test: a
held-out guitar string; validation: another), compared side by side."""
from __future__ import annotations


import numpy as np

from dl4mir.classic.metrics import classification_report
from dl4mir.report import plots

# epochs per model and profile: enough to converge on the embedded data within the run's time budget
EPOCHS = {
    "quick": {"mlp": 4, "cnn": 2, "waveform-cnn": 1, "crnn": 1, "transformer": 2},
    "default": {"mlp": 4, "cnn": 3, "waveform-cnn": 1, "crnn": 2, "transformer": 3},
    "full": {"mlp": 20, "cnn": 15, "waveform-cnn": 15, "crnn": 15, "transformer": 20},
}


def run(ctx) -> dict:

    from dl4mir.data.egfxset import EFFECTS
    from dl4mir.models import build_model, input_kind
    from dl4mir.train.data import prepare
    from dl4mir.train.loop import TrainConfig, fit, pick_device, predict

    budget = EPOCHS.get(ctx.profile, EPOCHS["default"])
    data = {kind: prepare("effect", input_kind=kind, data=ctx.guitar, profile=ctx.profile,
                          show_progress=ctx.show_progress) for kind in ("logmel", "waveform")}
    type_of = {e.name: e.effect_type for e in EFFECTS}
    results, curves, best_name = {}, {}, None
    for name, epochs in budget.items():
        d = data[input_kind(name)]
        model = build_model(name, seed=ctx.seed, n_classes=len(d.classes), **d.input_shape())
        out = ctx.out_dir / "models" / name
        summary = fit(model, d, TrainConfig(epochs=epochs, seed=ctx.seed, patience=99, progress=ctx.show_progress,
                                                      resumable=False), out)
        rows = d.rows("test")
        logits = predict(model, d, rows, device=pick_device("auto"))
        classes = np.array(d.classes)
        pred, true = classes[logits.argmax(1).numpy()], classes[d.targets(rows).numpy()]
        types = classification_report([type_of[t] for t in true], [type_of[p] for p in pred])
        results[name] = {"test_accuracy": summary["test"]["accuracy"], "effect_type_accuracy": types["accuracy"],
                         "balanced_accuracy": summary["test"]["balanced_accuracy"], "ece": summary["test"]["ece"],
                         "parameters": sum(p.numel() for p in model.parameters()), "epochs": summary["epochs"],
                         "train_seconds": summary["seconds"], "report": summary["test"]}
        curves[name] = ([e["epoch"] for e in summary["epoch_log"]], [e["val_accuracy"] for e in summary["epoch_log"]])
        if best_name is None or results[name]["test_accuracy"] > results[best_name]["test_accuracy"]:
            best_name = name
        print(f"  {name}: test accuracy {results[name]['test_accuracy']:.4f} in {summary['seconds']:.0f} s", flush=True)
    plots.lines(ctx.figure("learning_curves", "Validation accuracy per epoch (validation = a held-out string)"),
                curves, title="Learning curves, effect classification", xlabel="epoch", ylabel="validation accuracy")
    best = results[best_name]["report"]
    plots.confusion(ctx.figure("confusion_best", f"Confusion matrix of the best model ({best_name}) on the test string"),
                    best["confusion_matrix"], best["labels"], title=f"{best_name}: held-out string")
    names = list(results)
    plots.bars(ctx.figure("accuracy_by_model", "Test accuracy (13 effects) per model family"), names,
               [results[n]["test_accuracy"] for n in names], title="Effect accuracy on the held-out string",
               ylabel="accuracy")
    table = {n: {k: v for k, v in r.items() if k != "report"} for n, r in results.items()}
    d = data["logmel"]
    return {
        "headline": {"best model": best_name, "its effect accuracy (13 classes)": results[best_name]["test_accuracy"],
                     "its effect-type accuracy (5 classes)": results[best_name]["effect_type_accuracy"],
                     **{f"{n} accuracy": f"{r['test_accuracy']:.3f} ({r['train_seconds']:.0f} s, "
                                         f"{r['parameters']:,} params)" for n, r in results.items()}},
        "table": table, "class_balance": d.class_balance(),
        "split": {"train": len(d.rows("train")), "val": len(d.rows("val")), "test": len(d.rows("test"))},
        "answer": _answer(results),
    }


def _answer(results: dict) -> str:
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
