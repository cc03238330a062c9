"""The package's shape: no cycles between its parts, every import at the top of a file (except the CLI's), and
the CLI's help texts in step with the dataclasses they describe."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dl4mir"


def _part(module: str) -> str:
    """``dl4mir.train.loop`` → ``train``: the unit whose dependencies must not form a cycle."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path):
    """``(line, imported module, at top level?)`` for every dl4mir import in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top = {id(n) for n in tree.body}
    here = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                base = ".".join(here.split(".")[:-node.level] + ([base] if base else []))
            names = [base] if base != "dl4mir" else [f"dl4mir.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("dl4mir"):
                yield node.lineno, name, id(node) in top


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        src = _part(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if src in ("", "cli", "__main__"):  # the entry points may import everything
            continue
        for _, name, _ in _imports(path):
            dst = _part(name)
            if dst and dst != src:
                graph.setdefault(src, set()).add(dst)
    return graph


def _find_cycle(graph: dict[str, set[str]]):
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_cycle_between_the_parts_of_the_package():
    cycle = _find_cycle(_graph())
    assert cycle is None, "package-level import cycle: " + " → ".join(cycle)


def test_the_cycle_finder_finds_cycles():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_dl4mir_imports_sit_at_the_top_of_files_outside_the_cli():
    inside = [f"{p.relative_to(PACKAGE.parent)}:{line} {name}" for p in PACKAGE.rglob("*.py")
              if p.name not in ("cli.py", "__init__.py") for line, name, top in _imports(p) if not top]
    assert inside == [], "imports inside functions (move them to the top of the file):\n" + "\n".join(inside)


def test_cli_help_shows_the_training_defaults():
    pytest.importorskip("torch")
    from dataclasses import asdict

    from dl4mir.cli import TRAIN_DEFAULTS
    from dl4mir.train import TrainConfig

    defaults = asdict(TrainConfig())
    assert {k: defaults[k] for k in TRAIN_DEFAULTS} == TRAIN_DEFAULTS
