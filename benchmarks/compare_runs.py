"""Compare every number of two `dl4mir run` folders' metrics.json files, timings excluded: python benchmarks/compare_runs.py BEFORE AFTER."""
import json, sys
from pathlib import Path

def flat(x, prefix=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from flat(v, f"{prefix}{k}.")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from flat(v, f"{prefix}{i}.")
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield prefix[:-1], float(x)

TIMING = ("seconds", "_ms", "speedup", "train_seconds")
a, b = Path(sys.argv[1]), Path(sys.argv[2])
total = same = 0
for m in sorted(a.glob("*/metrics.json")):
    other = b / m.parent.name / "metrics.json"
    if not other.is_file():
        print("missing in after:", m.parent.name); continue
    A = {k: v for k, v in flat(json.loads(m.read_text())["metrics"]) if not any(t in k for t in TIMING)}
    B = {k: v for k, v in flat(json.loads(other.read_text())["metrics"]) if not any(t in k for t in TIMING)}
    common = set(A) & set(B)
    diff = [k for k in common if A[k] != B[k]]
    total += len(common); same += len(common) - len(diff)
    print(f"{m.parent.name:20s} {len(common):5d} numbers compared, {len(diff)} differ"
          + (f": {sorted(diff)[:4]}" if diff else "") + (f"; only before: {len(set(A)-set(B))}, only after: {len(set(B)-set(A))}"))
print(f"total: {same}/{total} identical")
