"""Training: the loop (loop.py), checkpoints and export (checkpoint.py), tasks and their data (data.py)."""
