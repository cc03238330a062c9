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
4. **One step.**  Forward and loss in mixed precision on CUDA through the task's *objective*, which returns
   ``{"loss": ..., **parts}`` for every kind of model (cross-entropy, MSE, or a generative model's own objective
   with its terms), a finiteness check (a NaN stops training within this step, writing a diagnostic checkpoint),
   backward, gradient clipping, optimizer and LR-scheduler step.
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
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from dl4mir._progress import progress
from dl4mir.errors import ConfigError, TrainingError
from dl4mir.metrics import classification_from_logits, regression_report
from dl4mir.train import checkpoint as ckpt


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
    amp_dtype: str = "float16"  # float16 (with loss scaling) | bfloat16 (float32's range: no scaling needed)
    device: str = "auto"
    seed: int = 0
    deterministic: bool = True
    checkpoint_every: int = 0  # steps between checkpoints; 0 = at the end of every epoch
    max_steps: int | None = None  # stop after this many optimizer steps (smoke tests, benchmarks)
    resumable: bool = True  # False: no checkpoints on disk (the best weights stay in memory), e.g. inside a lesson
    augment: bool = False
    class_weight: str = "none"  # "balanced": each class weighs n / (k · its count) in the loss, as scikit-learn's
    progress: bool | None = None
    export: str = "float32"  # float32 | float16 (half the size; inference does not need float32) | none


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int, deterministic: bool) -> None:
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
        if device.type == "cuda":
            device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
            torch.cuda.set_device(device)  # before NCCL starts, or every rank lands on GPU 0
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return dist.get_rank(), dist.get_world_size(), device
    return 0, 1, device


def _optimizer(model: nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    # the fused kernel updates all parameters in one pass: 1.5-2x faster steps for large dense layers on CPU
    # a model may ask for its own parameter groups (a GAN: the discriminator learns faster than the generator)
    groups = model.param_groups(cfg.lr) if hasattr(model, "param_groups") else [{"params": list(model.parameters())}]
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay,
                             betas=getattr(model, "betas", (0.9, 0.999)), fused=device.type in ("cpu", "cuda"))


def _scheduler(opt, cfg: TrainConfig, total_steps: int):
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups],
                                                   total_steps=max(total_steps, 1), pct_start=0.2)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    raise ConfigError(f"unknown schedule {cfg.schedule!r}; use onecycle, cosine or constant")


# -- the one loss protocol: every objective returns {"loss": scalar, **parts to log} ----------------------------

def objective_for(task_kind: str, class_weights: torch.Tensor | None = None):
    """``objective(net, x, y, step) -> {"loss": ..., **parts}`` for a task kind.

    Classifiers and regressors are scored by cross-entropy / MSE here (``class_weights``: one weight per class in
    the cross-entropy); generative models (autoencoders, VAEs, GANs) compute their own objective from
    ``(x, condition y)`` and return its terms alongside the loss.
    """
    if task_kind == "generative":
        return lambda net, x, y, step: net(x, y, step=step)
    if task_kind == "classification":
        return lambda net, x, y, step: {"loss": nn.functional.cross_entropy(
            net(x), y, weight=None if class_weights is None else class_weights.to(x.device))}
    if task_kind == "regression":  # a (B, 1) head against (B,) targets would broadcast to (B, B)
        return lambda net, x, y, step: {"loss": nn.functional.mse_loss(net(x).squeeze(-1), y)}
    raise ConfigError(f"unknown task kind {task_kind!r}; use classification, regression or generative")


def balanced_weights(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """scikit-learn's ``class_weight="balanced"``: ``n / (k · count)``, so every class weighs the same in the loss
    (EGFxSet has one clean folder for three of each effect type); a class absent from training weighs 0."""
    counts = torch.bincount(y, minlength=n_classes).float()
    return torch.where(counts > 0, len(y) / (n_classes * counts.clamp(min=1)), torch.zeros_like(counts))


def validation_score(model: nn.Module, task_kind: str, val: dict, epoch: int) -> float:
    """Higher is better: accuracy, −MSE, or −(the generative model's ``val_metric``); a GAN has no such number and
    keeps its latest epoch."""
    if task_kind == "classification":
        return val["accuracy"]
    if task_kind == "regression":
        return -val["mse"]
    metric = getattr(model, "val_metric", None)
    return -val[metric] if metric else float(epoch)


def _describe(task_kind: str, val: dict) -> str:
    if task_kind == "classification":
        return f"accuracy {val['accuracy']:.4f}"
    if task_kind == "regression":
        return f"MSE {val['mse']:.4f}"
    if "beta_kl" in val:  # a VAE: the terms of its negative ELBO, so a reader can add them up
        return (f"loss {val['loss']:.4f} = recon {val['recon']:.4f} + β·KL {val['beta_kl']:.4f} "
                f"(β {val['beta_t']:g}, KL {val['kl']:.1f} nats per clip), recon MSE {val['recon_mse']:.4f}")
    return ", ".join(f"{k} {v:.4f}" for k, v in val.items() if k != "n")


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
        # every key any row has (RAVE's phase 2 logs terms phase 1 does not), blank where a row lacks one
        w = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


class _Checkpoints:
    """Where the loop keeps its state: ``checkpoints/last.pt`` (everything needed to resume exactly),
    ``checkpoints/best.pt`` (weights only) and the CSV logs, which are always written with the checkpoint so the two
    agree.  With ``resumable=False`` nothing but the logs touches the disk and the best weights stay in memory."""

    def __init__(self, out_dir: Path, cfg: TrainConfig, rank: int, model, opt, sched, scaler, signature: dict):
        self.out_dir, self.dir, self.cfg, self.rank = out_dir, out_dir / "checkpoints", cfg, rank
        self.model, self.opt, self.sched, self.scaler, self.signature = model, opt, sched, scaler, signature
        self.best_in_memory = None

    def resume(self) -> dict | None:
        """The saved loop state, with weights, optimizer, scheduler, scaler and RNG states restored; ``None`` when
        there is nothing to resume.  A checkpoint of another run (model, data, batches) is refused."""
        last = self.dir / "last.pt"
        if self.rank == 0 and self.dir.is_dir():
            for tmp in ckpt.remove_stale_temporaries(self.dir):  # a kill during a write left it; last.pt is whole
                print(f"removed {tmp.name}, left by an interrupted checkpoint write", flush=True)
        if not last.is_file():
            return None
        saved = ckpt.load(last)
        if saved.get("signature", self.signature) != self.signature:
            differs = sorted(k for k in self.signature if saved["signature"].get(k) != self.signature[k])
            raise TrainingError(f"{last} belongs to a different run (it differs in {', '.join(differs)}); "
                                "resume it with the same settings, or delete the folder or choose another --out")
        self.model.load_state_dict(saved["model"])
        self.opt.load_state_dict(saved["optimizer"])
        self.sched.load_state_dict(saved["scheduler"])
        self.scaler.load_state_dict(saved["scaler"])
        ckpt.set_rng_state(saved["rng"])
        return saved["state"]

    def save_last(self, state: dict) -> None:
        if self.rank != 0:
            return
        if self.cfg.resumable:
            ckpt.save_atomic({"model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                              "scheduler": self.sched.state_dict(), "scaler": self.scaler.state_dict(),
                              "state": state, "rng": ckpt.rng_state(), "config": asdict(self.cfg),
                              "signature": self.signature}, self.dir / "last.pt")
        else:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        _write_csv(self.out_dir / "steps.csv", state["step_log"])
        _write_csv(self.out_dir / "epochs.csv", state["epoch_log"])

    def save_best(self) -> None:  # weights only: this file is read once, to load the best model at the end
        if not self.cfg.resumable:
            self.best_in_memory = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        elif self.rank == 0:
            ckpt.save_atomic({"model": self.model.state_dict()}, self.dir / "best.pt")

    def save_nonfinite(self, state: dict, rows, loss: float) -> Path:
        path = self.dir / "nonfinite.pt"
        if self.rank == 0:
            ckpt.save_atomic({"model": self.model.state_dict(), "state": state, "batch_rows": torch.as_tensor(rows),
                              "loss": loss}, path)
        return path

    def restore_best(self) -> None:
        if self.best_in_memory is not None:
            self.model.load_state_dict(self.best_in_memory)
        elif (self.dir / "best.pt").is_file():
            self.model.load_state_dict(ckpt.load(self.dir / "best.pt")["model"])


def _signature(model: nn.Module, data, cfg: TrainConfig, n_train: int) -> dict:
    """What a checkpoint must share with this run to be resumed: the same model on the same data with the same
    batches."""
    return {"model": type(model).__name__, "task": data.task.name, "train_rows": n_train,
            "input_shape": data.signature(), "batch_size": cfg.batch_size, "seed": cfg.seed,
            "model_config": str(getattr(model, "cfg", ""))}


def _new_state() -> dict:
    return {"step": 0, "epoch": 0, "step_in_epoch": 0, "best": None, "bad_epochs": 0, "step_log": [],
            "epoch_log": [], "stopped_early": False}


def _end_of_epoch(model, data, state: dict, store: _Checkpoints, cfg: TrainConfig, device, t_start: float) -> None:
    """5. Validation, best model, early stopping, the epoch's log line and a checkpoint."""
    epoch = state["epoch"]
    val = evaluate(model, data, "val", device=device)
    score = validation_score(model, data.task_kind, val, epoch)
    if state["best"] is None or score > state["best"]:
        state["best"], state["bad_epochs"] = score, 0
        store.save_best()
    else:
        state["bad_epochs"] += 1
    train_loss = float(np.mean([r["loss"] for r in state["step_log"] if r["epoch"] == epoch + 1]))
    state["epoch_log"].append({"epoch": epoch + 1, "train_loss": train_loss,
                               **{f"val_{k}": v for k, v in val.items() if isinstance(v, float)},
                               "seconds": time.perf_counter() - t_start})
    state["epoch"] += 1
    state["step_in_epoch"] = 0
    if state["bad_epochs"] >= cfg.patience:
        state["stopped_early"] = True
    store.save_last(state)
    warm_up = state["step_log"][-1].get("beta_t") if state["step_log"] else None
    note = f"; training β_t {warm_up:g} (warm-up)" if warm_up is not None and warm_up < val.get("beta_t", 0) else ""
    print(f"epoch {epoch + 1}: train loss {train_loss:.4f}, val {_describe(data.task_kind, val)}{note}", flush=True)


def fit(model: nn.Module, data, cfg: TrainConfig, out_dir: str | os.PathLike, *, on_step=None) -> dict:
    """Train ``model`` on ``data`` (a :class:`dl4mir.train.data.TaskData`) into ``out_dir``; returns the summary.

    ``on_step(step)`` is called after every optimizer step and checkpoint (tests use it to stop at a chosen step).
    Most callers want :func:`dl4mir.train.train_model`, which builds the model, resolves its settings and keeps
    the run folder; this is the loop itself.
    """
    out_dir = Path(out_dir)
    # 1. seeds, device, optimizer and schedule
    rank, world, device = _distributed(pick_device(cfg.device))
    seed_everything(cfg.seed, cfg.deterministic)
    model.to(device)
    net = model
    if world > 1:
        # a model some of whose weights a batch may not reach (a head per synth) says so, or DDP waits for them
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                                  find_unused_parameters=getattr(model, "ddp_unused_parameters", False))
    use_amp = cfg.amp and device.type == "cuda"
    if cfg.amp_dtype not in ("float16", "bfloat16"):
        raise ConfigError(f"amp_dtype {cfg.amp_dtype!r}: use float16 or bfloat16")
    amp_dtype = getattr(torch, cfg.amp_dtype)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    opt = _optimizer(model, cfg, device)
    train_rows = data.rows("train")
    # Under DDP every rank must take the same number of steps (or the gradient all-reduce waits forever): each
    # gets exactly n // world rows and the last partial batch is dropped.  One process uses every row.
    per_rank = len(train_rows) // world
    steps_per_epoch = max(1, math.ceil(per_rank / cfg.batch_size) if world == 1 else per_rank // cfg.batch_size)
    sched = _scheduler(opt, cfg, cfg.epochs * steps_per_epoch)
    if cfg.class_weight not in ("none", "balanced"):
        raise ConfigError(f"class_weight {cfg.class_weight!r}: use none or balanced")
    objective = objective_for(data.task_kind, balanced_weights(data.targets(train_rows), len(data.classes or ()))
                              if cfg.class_weight == "balanced" else None)

    # 2. resume, but only a run of the same model on the same data with the same batches
    store = _Checkpoints(out_dir, cfg, rank, model, opt, sched, scaler, _signature(model, data, cfg, len(train_rows)))
    state = store.resume()
    if state is None:
        state = _new_state()
    else:
        print(f"resuming {out_dir} at step {state['step']} (epoch {state['epoch']})", flush=True)

    t_start = time.perf_counter()
    while state["epoch"] < cfg.epochs and not state["stopped_early"]:
        if cfg.max_steps and state["step"] >= cfg.max_steps:
            break
        # 3. this epoch's batches, recomputed from (seed, epoch)
        epoch = state["epoch"]
        order = train_rows[epoch_order(len(train_rows), cfg.seed, epoch).numpy()]
        order = order[rank::world][:per_rank]
        batches = range(state["step_in_epoch"], steps_per_epoch)
        net.train()
        for b in progress(batches, total=len(batches), desc=f"epoch {epoch + 1}/{cfg.epochs}", enabled=cfg.progress):
            rows = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            if len(rows) == 0:
                continue
            x, y = data.batch(rows, seed=(cfg.seed, epoch, b), augment=cfg.augment)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            # 4. one step
            with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
                logs = objective(net, x, y, state["step"])
                loss = logs.pop("loss")
            if not torch.isfinite(loss):
                where = store.save_nonfinite(state, rows, float(loss.detach()))
                raise TrainingError(
                    f"non-finite loss ({float(loss.detach())}) at step {state['step'] + 1}, epoch {epoch + 1}; stopped. "
                    f"Diagnostic checkpoint (weights, batch rows) in {where}. Lower the learning "
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
                store.save_last(state)
            if on_step is not None:
                on_step(state["step"])
            if cfg.max_steps and state["step"] >= cfg.max_steps:
                break
        if cfg.max_steps and state["step"] >= cfg.max_steps and state["step_in_epoch"] < steps_per_epoch:
            store.save_last(state)
            break
        _end_of_epoch(model, data, state, store, cfg, device, t_start)  # 5.

    # 6. test with the best weights, export (a model may first summarize its training data: RAVE's latent PCA)
    store.restore_best()
    if hasattr(model, "after_training"):
        model.after_training(data, device)
    test = evaluate(model, data, "test", device=device) if len(data.rows("test")) else None
    summary = {"steps": state["step"], "epochs": state["epoch"], "stopped_early": state["stopped_early"],
               "best_val": state["best"], "test": test, "epoch_log": state["epoch_log"],
               "seconds": time.perf_counter() - t_start}
    if rank == 0 and cfg.export != "none":
        ckpt.export(model, out_dir / "export", data.export_meta(model), dtype=cfg.export)
    return summary


def evaluate(model: nn.Module, data, split: str, *, device) -> dict:
    """Metrics of ``model`` on a split: accuracy and the full report, MSE/MAE/R² (in the target's own units) for
    regression, or a generative model's (or any model with its own objective's) averaged objective and its terms."""
    rows = data.rows(split)
    if data.task_kind == "generative" or getattr(model, "own_objective", False):  # as train_model trained it
        return _mean_objective(model, data, rows, device=device)
    out = predict(model, data, rows, device=device)
    y = data.targets(rows)
    if data.task_kind == "classification":
        return classification_from_logits(out, y, data.classes)
    scale = data.norm.get("target_std", 1.0)  # regression targets are trained standardized; report real units
    return regression_report(y.numpy() * scale, out.squeeze(-1).numpy() * scale)


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
            logs = model(x.to(device), y.to(device), step=None)  # the full objective: no warm-up discount
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(x)
            n += len(x)
    return {**{k: v / max(n, 1) for k, v in sums.items()}, "n": n}
