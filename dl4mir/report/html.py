"""``report.html``: one page per run, rendered with Jinja2 (autoescape on) from the steps' ``metrics.json``.

Everything a dataset can put on the page (labels, file names, captions, metadata) is data, not markup:
autoescape turns it into text in HTML, the ``tojson`` filter escapes ``<``, ``>``, ``&`` and quotes inside the
embedded map data, and the page's script inserts labels only through ``textContent``.
"""
from __future__ import annotations

import json
from pathlib import Path

from dl4mir.errors import Dl4mirError


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return "" if v is None else str(v)


def environment():
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("dl4mir.report", "templates"), autoescape=True)
    env.filters["fmt"] = _fmt
    env.filters["pretty"] = lambda v: json.dumps(v, indent=1, default=str)
    return env


def write_report(run_dir: Path, results: dict, provenance: dict) -> Path:
    """Render ``run_dir/report.html`` (figures and audio are referenced relative to ``run_dir``)."""
    run_dir = Path(run_dir)
    page = environment().get_template("report.html").render(run_id=run_dir.name, results=results,
                                                             provenance=provenance)
    path = run_dir / "report.html"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def rerender(run_dir) -> Path:
    """Re-render a finished run's report from its ``summary.json`` and the steps' ``metrics.json`` files.  Given
    one lesson's folder (``dl4mir lessons run`` output, a ``metrics.json`` and no ``summary.json``), render that
    lesson alone into ``<folder>.html`` beside it."""
    run_dir = Path(run_dir)
    if not (run_dir / "summary.json").is_file() and (run_dir / "metrics.json").is_file():
        return _lesson_report(run_dir)
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise Dl4mirError(f"{run_dir}: not a `dl4mir run` folder (summary.json: {exc})") from None
    results = {}
    for name, step in summary["steps"].items():
        results[name] = dict(step)
        metrics = run_dir / name / "metrics.json"
        if step["status"] != "failed" and metrics.is_file():
            results[name]["record"] = json.loads(metrics.read_text())
    return write_report(run_dir, results, summary["provenance"])


def _lesson_report(folder: Path) -> Path:
    try:
        record = json.loads((folder / "metrics.json").read_text())
        seconds = float(record["seconds"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise Dl4mirError(f"{folder}: metrics.json is not a lesson's record ({exc})") from None
    results = {folder.name: {"status": "ok", "seconds": seconds, "record": record}}
    page = environment().get_template("report.html").render(run_id=record.get("title", folder.name), results=results,
                                                             provenance={"lesson folder": str(folder.resolve())})
    path = folder.parent / f"{folder.name}.html"  # beside the folder, so the page's links ("<folder>/…") resolve
    path.write_text(page, encoding="utf-8")
    return path
