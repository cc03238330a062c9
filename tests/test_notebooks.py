"""The course notebooks (jupytext percent-format scripts in notebooks/): one per lesson, each calling its lesson's
functions, executed as real notebooks in a Jupyter kernel on the quick profile, showing the lesson's figures and
audio players inline."""
import json
import re
from pathlib import Path

import pytest

from dl4mir.lessons import LESSON_BY_NAME

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))
# lessons whose notebooks must let the reader listen
WITH_SOUND = {"dft", "features", "augmentation", "autoencoders", "vae-gan"}


def lesson_of(path: Path) -> str:
    found = re.findall(r'notebook_context\("([a-z-]+)"', path.read_text())
    assert len(found) == 1, f"{path.name}: expected one notebook_context(...) call, found {found}"
    return found[0]


def test_every_lesson_has_a_notebook():
    lessons = [lesson_of(p) for p in NOTEBOOKS]
    assert sorted(lessons) == sorted(LESSON_BY_NAME), "one notebook per lesson, no lesson twice"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_percent_format_and_calls_its_lesson(path):
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and nb.cells[0].source.startswith("# "), "opens with a titled markdown cell"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert f'run_lesson("{lesson_of(path)}", ctx)' in code and "ctx.show()" in code
    # the notebook explains the lesson's steps rather than re-implementing training
    assert "fit(" not in code and "build_model(" not in code


def _outputs(nb) -> tuple[int, int, list[str]]:
    """(figures, audio players, error messages) among a notebook's outputs."""
    figures = players = 0
    errors = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            figures += "image/png" in data
            players += "<audio" in data.get("text/html", "")
            if out.get("output_type") == "error":
                errors.append(f"{out['ename']}: {out['evalue']}")
    return figures, players, errors


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_in_a_kernel_with_figures_and_players(path, tmp_path, monkeypatch, _dl4mir_home):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    for key, value in {"DL4MIR_PROFILE": "quick", "DL4MIR_HOME": str(_dl4mir_home),
                       "DL4MIR_NOTEBOOK_OUT": str(tmp_path / "out"), "MPLBACKEND": "Agg"}.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    nb = jupytext.read(path, fmt="py:percent")
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    figures, players, errors = _outputs(nb)
    assert not errors
    lesson = lesson_of(path)
    record = json.loads((tmp_path / "out" / lesson / "metrics.json").read_text())
    assert record["figures"] and figures >= len(record["figures"]), f"{figures} figures shown of {len(record['figures'])}"
    assert players >= len(record["audio"]), f"{players} players shown of {len(record['audio'])}"
    if lesson in WITH_SOUND:
        assert players >= 1
