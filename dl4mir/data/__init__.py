"""Datasets: clips, readers for real layouts, synthetic generators, indexes, validation and splits.

>>> from dl4mir.data import get_dataset
>>> ds = get_dataset("guitar-fx", profile="quick")      # doctest: +SKIP
>>> ds.clips[0].labels["effect"], ds.clips[0].groups["string"]  # doctest: +SKIP
"""
from __future__ import annotations

from dl4mir.data.dataset import Clip, Dataset, dl4mir_home
from dl4mir.data.registry import get_dataset, list_datasets, make_synthetic

__all__ = ["Clip", "Dataset", "dl4mir_home", "get_dataset", "list_datasets", "make_synthetic"]
