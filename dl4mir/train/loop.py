"""The training loop: one file, read it top to bottom.

    fit(model, data, cfg, out_dir)  ->  history, best validation score, test metrics, exported model

What it does, in order, and why:

1. **Seeds and determinism.**  Every random choice (weights, batch order, dropout, augmentation) comes from the
   seed; with ``deterministic=True`` torch uses deterministic kernels, so a CPU run is bit-for-bit repeatable.
2. **Resume.**  If ``out_dir/checkpoints/last.pt`` exists the run continues exactly where it stopped: weights,
   optimizer, scheduler, counters, the position inside the epoch's batch order and every RNG state come back, so
   a run killed with ``kill -9`` and resumed produces the same losses and final weights as one that never stopped.
3. **Batches.**  Each epoch's order is a permutation drawn from ``(seed, epoch)``, so it can be recomputed after a
   crash instead of stored.  Under ``torchrun`` each process takes every ``world_size``-th batch item.
4. **One step.**  Forward (in mixed precision on CUDA), loss (cross-entropy or MSE; generative models compute
   their own objective and return it as ``out["loss"]``), a finiteness check (a NaN stops training within this
   step, writing a diagnostic checkpoint), backward, gradient clipping, optimizer and LR-scheduler step.
5. **Validation** after each epoch; the best model is kept; training stops early after ``patience`` epochs without
   improvement.
6. **Test** once, with the best weights; export as safetensors + JSON.

Multi-GPU / multi-node: run the same command under torchrun, e.g.
``torchrun --nproc_per_node=4 -m dl4mir train cnn --task effect`` (DistributedDataParallel, NCCL on GPUs, gloo
on CPUs); only rank 0 writes checkpoints, logs and exports.
"""
from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dl4mir.errors import Dl4mirError
from dl4mir.train import checkpoint as ckpt


class TrainingError(Dl4mirError):
    """Training cannot go on (for example a non-finite loss)."""


@dataclass
class TrainConfig:
    epochs: int = 15
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    schedule: str = "onecycle"  # onecycle | cosine | constant
    grad_clip: float = 1.0
    patience: int = 5  # epochs without validation improvement before stopping
    amp: bool = True  # mixed precision, CUDA only
    device: str = "auto"
    seed: int = 0
    deterministic: bool = True
    checkpoint_every: int = 0  # steps between checkpoints; 0 = at the end of every epoch
    max_steps: int | None = None  # stop after this many optimizer steps (smoke tests, benchmarks)
    resumable: bool = True  # False: no checkpoints on disk (the best weights stay in memory), e.g. inside a lesson
    augment: bool = False
    progress: bool | None = None


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int, deterministic: bool) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=g)


def _distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """Under torchrun: join the process group and take this process's own GPU (``cuda:LOCAL_RANK``)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
            torch.cuda.set_device(device)  # before NCCL starts, or every rank lands on GPU 0
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return dist.get_rank(), dist.get_world_size(), device
    return 0, 1, device


def _scheduler(opt, cfg: TrainConfig, total_steps: int):
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups],
                                                   total_steps=max(total_steps, 1), pct_start=0.2)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    raise Dl4mirError(f"unknown schedule {cfg.schedule!r}; use onecycle, cosine or constant")


@torch.no_grad()
def predict(model: nn.Module, data, rows, *, device, batch_size: int = 128) -> torch.Tensor:
    """Model outputs (logits or regression values) for ``rows`` of ``data``, in order."""
    if data.task_kind == "generative":
        raise TrainingError("predict() is for classifiers and regressors; use dl4mir.generate.latent for generative models")
    model.eval()
    outs = []
    for i in range(0, len(rows), batch_size):
        x, _ = data.batch(rows[i:i + batch_size])
        outs.append(model(x.to(device)).float().cpu())
    return torch.cat(outs) if outs else torch.empty(0)


def _write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def fit(model: nn.Module, data, cfg: TrainConfig, out_dir: str | os.PathLike, *, on_step=None) -> dict:
    """Train ``model`` on ``data`` (a :class:`dl4mir.train.data.TaskData`) into ``out_dir``; returns the summary.

    ``on_step(step)`` is called after every optimizer step and checkpoint (tests use it to stop at a chosen step).
    """
    out_dir = Path(out_dir)
    ck_dir = out_dir / "checkpoints"
    rank, world, device = _distributed(pick_device(cfg.device))
    seed_everything(cfg.seed, cfg.deterministic)
    model.to(device)
    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    # the fused kernel updates all parameters in one pass: 1.5-2x faster steps for large dense layers on CPU
    # a model may ask for its own parameter groups (a GAN: the discriminator learns faster than the generator)
    groups = model.param_groups(cfg.lr) if hasattr(model, "param_groups") else [{"params": list(model.parameters())}]
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=getattr(model, "betas", (0.9, 0.999)),
                            fused=device.type in ("cpu", "cuda"))
    train_rows = data.rows("train")
    # Under DDP every rank must take the same number of steps (or the gradient all-reduce waits forever): each
    # gets exactly n // world rows and the last partial batch is dropped.  One process uses every row.
    per_rank = len(train_rows) // world
    steps_per_epoch = max(1, math.ceil(per_rank / cfg.batch_size) if world == 1 else per_rank // cfg.batch_size)
    sched = _scheduler(opt, cfg, cfg.epochs * steps_per_epoch)
    criterion = nn.CrossEntropyLoss() if data.task_kind == "classification" else nn.MSELoss()
    generative = data.task_kind == "generative"
    higher_is_better = data.task_kind == "classification"
    state = {"step": 0, "epoch": 0, "step_in_epoch": 0, "best": None, "bad_epochs": 0, "step_log": [],
             "epoch_log": [], "stopped_early": False}

    # 2. resume, but only a run of the same model on the same data with the same batches
    signature = {"model": type(model).__name__, "task": data.task.name, "train_rows": len(train_rows),
                 "input_shape": list(data.X.shape[1:]), "batch_size": cfg.batch_size, "seed": cfg.seed,
                 "model_config": str(getattr(model, "cfg", ""))}
    last = ck_dir / "last.pt"
    if last.is_file():
        saved = ckpt.load(last)
        if saved.get("signature", signature) != signature:
            differs = sorted(k for k in signature if saved["signature"].get(k) != signature[k])
            raise TrainingError(f"{last} belongs to a different run (it differs in {', '.join(differs)}); "
                                "resume it with the same settings, or delete the folder or choose another --out")
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        scaler.load_state_dict(saved["scaler"])
        state = saved["state"]
        ckpt.set_rng_state(saved["rng"])
        print(f"resuming {out_dir} at step {state['step']} (epoch {state['epoch']})", flush=True)

    best_in_memory = {}

    def save_best() -> None:  # weights only: this file is read once, to load the best model at the end
        if not cfg.resumable:
            best_in_memory["model"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif rank == 0:
            ckpt.save_atomic({"model": model.state_dict()}, ck_dir / "best.pt")

    def save(name: str) -> None:
        if rank == 0:
            if cfg.resumable:
                ckpt.save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                  "scheduler": sched.state_dict(), "scaler": scaler.state_dict(), "state": state,
                                  "rng": ckpt.rng_state(), "config": asdict(cfg), "signature": signature},
                                 ck_dir / name)
            else:
                out_dir.mkdir(parents=True, exist_ok=True)
            _write_csv(out_dir / "steps.csv", state["step_log"])  # logs always agree with the checkpoint
            _write_csv(out_dir / "epochs.csv", state["epoch_log"])

    from dl4mir._progress import progress

    t_start = time.perf_counter()
    while state["epoch"] < cfg.epochs and not state["stopped_early"]:
        if cfg.max_steps and state["step"] >= cfg.max_steps:
            break
        epoch = state["epoch"]
        order = train_rows[epoch_order(len(train_rows), cfg.seed, epoch).numpy()]
        order = order[rank::world][:per_rank]
        batches = range(state["step_in_epoch"], steps_per_epoch)
        net.train()
        for b in progress(batches, total=len(batches), desc=f"epoch {epoch + 1}/{cfg.epochs}", enabled=cfg.progress):
            rows = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            if len(rows) == 0:
                continue
            x, y = data.batch(rows, augment_seed=(cfg.seed, epoch, b) if cfg.augment else None)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            # 4. one step
            logs = {}
            with torch.autocast(device_type=device.type, enabled=use_amp):
                if generative:  # autoencoders, VAEs, GANs: the model's own objective, y is the condition
                    logs = net(x, y, step=state["step"])
                    loss = logs.pop("loss")
                else:
                    out = net(x)
                    # a regression head is (B, 1); against (B,) targets MSELoss would broadcast to (B, B)
                    loss = criterion(out.squeeze(-1) if data.task_kind == "regression" else out, y)
            if not torch.isfinite(loss):
                if rank == 0:
                    ckpt.save_atomic({"model": model.state_dict(), "state": state, "batch_rows": torch.as_tensor(rows),
                                      "loss": float(loss.detach())}, ck_dir / "nonfinite.pt")
                raise TrainingError(
                    f"non-finite loss ({float(loss.detach())}) at step {state['step'] + 1}, epoch {epoch + 1}; stopped. "
                    f"Diagnostic checkpoint (weights, batch rows) in {ck_dir / 'nonfinite.pt'}. Lower the learning "
                    "rate, check the inputs for NaN/Inf, or keep gradient clipping on.")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(opt)
            scaler.update()
            sched.step()
            state["step"] += 1
            state["step_in_epoch"] = b + 1
            state["step_log"].append({"step": state["step"], "epoch": epoch + 1, "loss": float(loss.detach()),
                                      "lr": opt.param_groups[0]["lr"], **{k: float(v.detach()) for k, v in logs.items()}})
            if cfg.checkpoint_every and state["step"] % cfg.checkpoint_every == 0:
                save("last.pt")
            if on_step is not None:
                on_step(state["step"])
            if cfg.max_steps and state["step"] >= cfg.max_steps:
                break
        if cfg.max_steps and state["step"] >= cfg.max_steps and state["step_in_epoch"] < steps_per_epoch:
            save("last.pt")
            break
        # 5. validation, best model, early stopping
        val = evaluate(model, data, "val", device=device)
        if generative:  # lower is better; a GAN has no such number and keeps its latest epoch
            metric = getattr(model, "val_metric", None)
            score = -val[metric] if metric else float(state["epoch"])
        else:
            score = val["accuracy"] if higher_is_better else -val["mse"]
        improved = state["best"] is None or score > state["best"]
        if improved:
            state["best"], state["bad_epochs"] = score, 0
            save_best()
        else:
            state["bad_epochs"] += 1
        train_loss = float(np.mean([r["loss"] for r in state["step_log"] if r["epoch"] == epoch + 1]))
        state["epoch_log"].append({"epoch": epoch + 1, "train_loss": train_loss, **{f"val_{k}": v for k, v in val.items()
                                                                                   if isinstance(v, float)},
                                   "seconds": time.perf_counter() - t_start})
        state["epoch"] += 1
        state["step_in_epoch"] = 0
        if state["bad_epochs"] >= cfg.patience:
            state["stopped_early"] = True
        save("last.pt")
        shown = (", ".join(f"{k} {v:.4f}" for k, v in val.items() if k != "n") if generative
                 else f"accuracy {val['accuracy']:.4f}" if higher_is_better else f"MSE {val['mse']:.4f}")
        print(f"epoch {epoch + 1}: train loss {train_loss:.4f}, val {shown}", flush=True)

    # 6. test with the best weights, export
    best = ck_dir / "best.pt"
    if best_in_memory:
        model.load_state_dict(best_in_memory["model"])
    elif best.is_file():
        model.load_state_dict(ckpt.load(best)["model"])
    test = evaluate(model, data, "test", device=device) if len(data.rows("test")) else None
    summary = {"steps": state["step"], "epochs": state["epoch"], "stopped_early": state["stopped_early"],
               "best_val": state["best"], "test": test, "epoch_log": state["epoch_log"],
               "seconds": time.perf_counter() - t_start}
    if rank == 0:
        ckpt.export(model, out_dir / "export", data.export_meta(model))
    return summary


def evaluate(model: nn.Module, data, split: str, *, device) -> dict:
    """Metrics of ``model`` on a split: accuracy and the full report, or MSE/MAE for regression."""
    from dl4mir.classic.metrics import classification_report

    rows = data.rows(split)
    if data.task_kind == "generative":
        return _mean_objective(model, data, rows, device=device)
    out = predict(model, data, rows, device=device)
    y = data.targets(rows)
    if data.task_kind == "classification":
        probs = torch.softmax(out, dim=1)
        pred = probs.argmax(1).numpy()
        names = np.array(data.classes)
        rep = classification_report(names[y.numpy()], names[pred], labels=data.classes)
        rep["nll"] = float(nn.functional.cross_entropy(out, y))
        rep["ece"] = expected_calibration_error(probs.numpy(), y.numpy())
        return rep
    scale = data.norm.get("target_std", 1.0)  # regression targets are trained standardized; report real units
    err = (out.squeeze(-1) - y).numpy() * scale
    return {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err))), "n": len(err)}


@torch.no_grad()
def _mean_objective(model: nn.Module, data, rows, *, device, batch_size: int = 128) -> dict:
    """A generative model's logged quantities (loss, reconstruction error, KL …) averaged over ``rows``."""
    model.eval()
    sums, n = {}, 0
    g = torch.random.fork_rng(devices=[])  # a GAN draws noise here: leave the training RNG stream untouched
    with g:
        torch.manual_seed(0)
        for i in range(0, len(rows), batch_size):
            x, y = data.batch(rows[i:i + batch_size])
            logs = model(x.to(device), y.to(device))
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(x)
            n += len(x)
    return {**{k: v / max(n, 1) for k, v in sums.items()}, "n": n}


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """Gap between confidence and accuracy, averaged over 10 confidence bins weighted by their counts."""
    conf, pred = probs.max(1), probs.argmax(1)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(np.mean(pred[m] == y[m]) - conf[m].mean())
    return float(ece)
