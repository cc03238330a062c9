"""Training: one entry point (:func:`train_model`, runner.py) over the loop (loop.py), checkpoints and export
(checkpoint.py), and tasks with their data (data.py)."""
from dl4mir.train.loop import TrainConfig, evaluate, fit
from dl4mir.train.runner import RunFolder, TrainedModel, resolve_settings, train_model

__all__ = ["TrainConfig", "evaluate", "fit", "RunFolder", "TrainedModel", "resolve_settings", "train_model"]
