"""Checkpoints that survive ``kill -9`` and resume exactly; exported weights as safetensors + JSON.

A checkpoint holds the model, optimizer and scheduler states, the loop's counters (step, epoch, position in the
epoch's batch order) and every random-number state (Python, NumPy, torch CPU and CUDA).  It is written to a
temporary file, flushed to disk with ``fsync`` and renamed over the old one: a kill at any moment leaves either
the previous complete checkpoint or the new complete one, never half of one.  Loading uses
``torch.load(weights_only=True)``, which refuses to run code hidden in a file.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import torch

from safetensors.torch import load_file, save_file

from dl4mir.errors import CheckpointError, ConfigError
from dl4mir.models import build_model


def rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "python": list(random.getstate()[1]),
        "python_version": random.getstate()[0],
        "python_gauss": random.getstate()[2],
        "numpy": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "numpy_gauss": [int(np_state[3]), float(np_state[4])],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), state["numpy_pos"],
                         state["numpy_gauss"][0], state["numpy_gauss"][1]))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_atomic(obj: dict, path: Path) -> Path:
    """``torch.save`` to a temporary file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)  # make the rename itself durable
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete ``.<name>.<pid>.tmp`` files a killed :func:`save_atomic` left in ``folder`` (never a complete
    checkpoint: those are renamed into place); returns what was removed."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, under another user
        return True
    return True


def load(path: Path, map_location="cpu") -> dict:
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc})") from None


def export(model: torch.nn.Module, out_dir: Path, meta: dict, *, dtype: str = "float32") -> Path:
    """Write ``model.safetensors`` and ``config.json`` (model name, config, classes, input recipe).

    ``dtype="float16"`` stores floating-point weights at half size; :func:`load_exported` brings them back to
    float32 (integer buffers such as batch-norm counters keep their type)."""
    if dtype not in ("float32", "float16"):
        raise CheckpointError(f"export dtype must be float32 or float16, got {dtype!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cast = getattr(torch, dtype)
    state = {k: (v.to(cast) if v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in model.state_dict().items()}
    meta = {**meta, "export_dtype": dtype}
    weights = out_dir / "model.safetensors"
    save_file(state, str(weights))
    os.chmod(weights, 0o666 & ~_umask())  # safetensors writes 0600: others could not use a shared model
    (out_dir / "config.json").write_text(json.dumps(meta, indent=1, default=str))
    return out_dir


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_exported(export_dir: Path, *, families: tuple[str, ...] | None = None, need: str = "this needs"):
    """``(model in eval mode, meta)`` from an :func:`export` folder.  With ``families``, a model of another kind is
    refused with what it is and ``need`` (what the caller needs, e.g. "captions need a captioner")."""
    export_dir = Path(export_dir)
    cfg_path, weights = export_dir / "config.json", export_dir / "model.safetensors"
    for p in (cfg_path, weights):
        if not p.is_file():
            raise CheckpointError(f"{p}: not found; an exported model folder holds config.json and model.safetensors")
    for p in (cfg_path, weights):
        if not os.access(p, os.R_OK, effective_ids=os.access in os.supports_effective_ids):
            raise CheckpointError(f"{p}: permission denied; ask its owner to make it readable (chmod a+r)")
    try:
        meta = json.loads(cfg_path.read_text())
        if families is not None and meta.get("model") not in families:
            raise ConfigError(f"{export_dir} holds a {meta.get('model')} model; {need} ({', '.join(families)})")
        model = build_model(meta["model"], **meta["model_config"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{cfg_path}: malformed model config ({exc})") from None
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors' own error type for a damaged file, or an OSError
        raise CheckpointError(f"{weights}: unreadable weights ({type(exc).__name__}: {exc})") from None
    model.load_state_dict(state)  # float16 weights are copied into the float32 parameters
    return model.eval(), meta
