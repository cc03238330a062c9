"""``dl4mir run``: the course as steps writing artifacts into ``runs/<run-id>/``, then a report.

Today the job covers the data stage (make/read, validate, split, describe, one listening example per class);
each later lesson adds a step here.  A failing step is recorded and the others still run; the summary lists
every failure at the end.
"""
from __future__ import annotations

import html
import json
import os
import platform
import shutil
import time
import traceback
from pathlib import Path


def _data_step(spec: str, profile: str, out: Path) -> dict:
    from dl4mir.data import get_dataset
    from dl4mir.data.splits import default_split

    ds = get_dataset(spec, profile=profile)
    report = ds.validate()
    if not report.ok:
        raise RuntimeError("validation failed:\n" + "\n".join(report.lines()))
    plan = default_split(ds)
    plan.save(out / "split.json")
    info = ds.info()
    # one example per class of the first summary label, copied so the report works offline and after cleanup
    key = ds.reader.summary_labels[0]
    examples = {}
    for clip in ds.clips:
        label = str(clip.labels.get(key))
        if label not in examples:
            dest = out / "audio" / f"{len(examples):02d}{clip.path.suffix}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(clip.path, dest)
            examples[label] = {"clip_id": clip.clip_id, "file": dest.relative_to(out.parent).as_posix()}
    metrics = {"dataset": info, "validation": report.to_dict(), "split": {
        "strategy": plan.strategy, "group_key": plan.group_key, "test_groups": plan.test_groups,
        "n_test": len(plan.test), "folds": [{k: len(v) for k, v in f.items()} for f in plan.folds]},
        "examples_by": key, "examples": examples}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str))
    return metrics


def _write_report(run_dir: Path, steps: dict, provenance: dict) -> Path:
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>dl4mir run {e(run_dir.name)}</title>",
             "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}td,th{padding:2px 8px;"
             "text-align:left}table{border-collapse:collapse}tr:nth-child(even){background:#f3f3f3}</style>",
             f"<h1>dl4mir run <code>{e(run_dir.name)}</code></h1>"]
    for name, step in steps.items():
        parts.append(f"<h2>{e(name)}</h2><p>status: <b>{e(step['status'])}</b>, {step['seconds']:.1f} s</p>")
        if step["status"] != "ok":
            parts.append(f"<pre>{e(step.get('error', ''))}</pre>")
            continue
        m = step["metrics"]
        info = m["dataset"]
        parts.append(f"<p>{info['n_clips']} clips, layout <code>{e(info['layout'])}</code>, validation "
                     f"{'OK' if m['validation']['ok'] else 'FAILED'}; split: {e(m['split']['strategy'])} on "
                     f"<code>{e(str(m['split']['group_key']))}</code>, {m['split']['n_test']} test clips.</p>")
        for key, counts in info["label_counts"].items():
            parts.append(f"<table><tr><th>{e(key)}</th><th>clips</th></tr>"
                         + "".join(f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in counts.items()) + "</table>")
        parts.append(f"<h3>Listen: one clip per {e(m['examples_by'])}</h3><table>")
        for label, ex in m["examples"].items():
            parts.append(f"<tr><td>{e(label)}</td><td><code>{e(ex['clip_id'])}</code></td>"
                         f"<td><audio controls preload='none' src='{e(ex['file'])}'></audio></td></tr>")
        parts.append("</table>")
    parts.append("<h2>Provenance</h2><pre>" + e(json.dumps(provenance, indent=1)) + "</pre>")
    path = run_dir / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def run_course(*, profile: str = "default", data: str = "guitar-fx", out: str | os.PathLike = "runs",
               run_id: str | None = None) -> Path:
    """Run every step and write ``report.html``; returns its path."""
    from dl4mir import __version__

    run_id = run_id or f"{profile}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = (Path(out) / run_id).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    steps_plan = {"data-guitar": data, "data-instruments": "instruments", "data-vowels": "vowels"}
    steps: dict[str, dict] = {}
    for name, spec in steps_plan.items():
        step_dir = run_dir / name
        step_dir.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        print(f"[{name}] {spec} ({profile}) …", flush=True)
        try:
            steps[name] = {"status": "ok", "metrics": _data_step(spec, profile, step_dir)}
        except Exception as exc:  # a failing step is reported; the others still run
            steps[name] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc()}
        steps[name]["seconds"] = time.perf_counter() - t0
        print(f"[{name}] {steps[name]['status']} in {steps[name]['seconds']:.1f} s", flush=True)
    provenance = {"dl4mir": __version__, "profile": profile, "data": data, "python": platform.python_version(),
                  "machine": platform.machine(), "cpus": os.cpu_count(),
                  "step_seconds": {k: round(v["seconds"], 2) for k, v in steps.items()}}
    (run_dir / "summary.json").write_text(json.dumps({"steps": {k: {kk: vv for kk, vv in v.items()
                                                                   if kk != "metrics"} for k, v in steps.items()},
                                                      "provenance": provenance}, indent=1))
    report = _write_report(run_dir, steps, provenance)
    failed = [k for k, v in steps.items() if v["status"] != "ok"]
    print(f"{len(steps) - len(failed)} step(s) ok, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    for k in failed:
        print(f"  {k}: {steps[k]['error']}")
    return report
