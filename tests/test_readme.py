"""The README's two set-up commands are the ones that work: CI runs the test command through .ci/run."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", setup, flags=re.S)
    assert len(commands) == 2
    main_job, tests = commands
    assert "dl4mir run" in main_job and "pytest" in tests
    assert tests in (ROOT / ".ci" / "run").read_text()
