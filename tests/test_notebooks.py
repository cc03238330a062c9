"""The course notebooks (jupytext percent-format scripts in notebooks/) run top to bottom, on the quick profile."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))


def test_there_is_a_notebook_per_course_topic():
    numbers = {p.name[:2] for p in NOTEBOOKS}
    assert {"01", "02", "03", "04", "05", "06", "07", "09", "10"} <= numbers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_percent_format_and_narrates(path):
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and nb.cells[0].source.startswith("# "), "opens with a titled markdown cell"
    assert "code" in kinds
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from dl4mir" in code  # calls the library rather than re-implementing it


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, _dl4mir_home):
    env = {**os.environ, "DL4MIR_PROFILE": "quick", "DL4MIR_HOME": str(_dl4mir_home), "MPLBACKEND": "Agg"}
    p = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"{path.name} failed:\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
