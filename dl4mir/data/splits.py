"""Leakage-free splits as the course makes them: hold out whole groups (a guitar string, a speaker), then K folds
on the development set, stratified by the label and grouped so no group sits in two folds.  Seeded throughout;
official splits (TinySOL's 5 folds) are used where a dataset has them."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from dl4mir.errors import ConfigError, DatasetError

@dataclass
class SplitPlan:
    """A test set plus K (train, validation) folds over the development set, as clip ids."""

    strategy: str
    group_key: str | None
    stratify: str | None
    seed: int
    test: list[str]
    folds: list[dict[str, list[str]]] = field(default_factory=list)
    test_groups: list[str] = field(default_factory=list)
    note: str = ""  # which convention the split follows, and what it leaves out

    def describe(self) -> str:
        on = f"grouped by {self.group_key!r}" if self.group_key else "by clip (no grouping key)"
        return f"{self.strategy} split {on}" + (f"; {self.note}" if self.note else "")

    @property
    def development(self) -> list[str]:
        return sorted({i for f in self.folds for part in f.values() for i in part}) if self.folds else []

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SplitPlan":
        try:
            return cls(**json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            raise DatasetError(f"{path}: not a dl4mir split file ({exc})") from None


def _group_of(clip, group_key):
    if group_key is None:
        return clip.clip_id
    try:
        return str(clip.groups[group_key])
    except KeyError:
        raise DatasetError(f"clip {clip.clip_id} has no group {group_key!r}; it has {sorted(clip.groups)}") from None


def _label_of(clip, key):
    if key is None:
        return "all"
    try:
        return str(clip.labels[key])
    except KeyError:
        raise DatasetError(f"clip {clip.clip_id} has no label {key!r}; it has {sorted(clip.labels)}") from None


def make_split(clips, *, group_key: str | None = None, test_groups=None, test_fraction: float = 0.2,
               n_folds: int = 5, stratify: str | None = None, seed: int = 0, official: dict | None = None
               ) -> SplitPlan:
    """Build a :class:`SplitPlan`.

    * ``official={clip_id: split name}`` uses a dataset's own folds (each name one fold; no extra test set
      unless ``test_groups`` names some of those folds).
    * Otherwise the test set is the clips whose ``groups[group_key]`` is in ``test_groups``; if ``test_groups``
      is ``None``, whole groups are drawn at random (seeded) until about ``test_fraction`` of the clips.
    * The development set is cut into ``n_folds`` stratified, grouped folds (scikit-learn's
      ``StratifiedGroupKFold``), so no group appears in two folds.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    clips = list(clips)
    if not clips:
        raise DatasetError("cannot split an empty list of clips")
    ids = np.array([c.clip_id for c in clips])
    if official is not None:
        names = np.array([official[c.clip_id] for c in clips])
        test_set = set(test_groups or ())
        folds = []
        for name in sorted(set(names) - test_set):
            val = names == name
            dev = ~np.isin(names, list(test_set))
            folds.append({"train": sorted(ids[dev & ~val]), "val": sorted(ids[val])})
        return SplitPlan("official", group_key, stratify, seed, sorted(ids[np.isin(names, list(test_set))]),
                         folds, sorted(test_set))

    groups = np.array([_group_of(c, group_key) for c in clips])
    labels = np.array([_label_of(c, stratify) for c in clips])
    unique = sorted(set(groups))
    if test_groups is None:
        rng = np.random.default_rng(seed)
        order = rng.permutation(unique)
        target, chosen, count = test_fraction * len(clips), [], 0
        for g in order:
            if count >= target:
                break
            chosen.append(g)
            count += int((groups == g).sum())
        test_groups = chosen
    test_groups = [str(g) for g in test_groups]
    missing = sorted(set(test_groups) - set(unique))
    if missing:
        present = ", ".join(str(g) for g in unique)
        raise DatasetError(f"test group(s) {', '.join(missing)} not found in {group_key!r}; present: {present}. "
                           f"Choose the held-out group with --test-group {group_key}=VALUE")
    is_test = np.isin(groups, test_groups)
    dev_idx = np.flatnonzero(~is_test)
    n_dev_groups = len(set(groups[dev_idx]))
    if n_folds > n_dev_groups:
        what = f"groups of {group_key!r}" if group_key else "clips"
        raise DatasetError(f"{n_folds} folds need at least {n_folds} development {what}; there are {n_dev_groups}. "
                           "Use fewer folds (--folds)" + (" or another group key." if group_key else " or more data."))
    folds = []
    if n_folds >= 2 and stratify is not None:
        counts = {str(v): int(c) for v, c in zip(*np.unique(labels[dev_idx], return_counts=True))}
        if max(counts.values()) < n_folds:  # scikit-learn refuses; fewer in some classes only is allowed
            raise DatasetError(f"{n_folds} folds stratified by {stratify!r} need at least one class with {n_folds} "
                               f"development clips; the largest has {max(counts.values())}. Use fewer folds "
                               "(--folds) or more data")
    if n_folds >= 2:
        cv = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        for tr, va in cv.split(dev_idx, labels[dev_idx], groups[dev_idx]):
            folds.append({"train": sorted(ids[dev_idx[tr]]), "val": sorted(ids[dev_idx[va]])})
    else:
        folds.append({"train": sorted(ids[dev_idx]), "val": []})
    return SplitPlan("holdout-group", group_key, stratify, seed, sorted(ids[is_test]), folds, sorted(test_groups))


def check_no_leakage(plan: SplitPlan, clips) -> None:
    """Raise if any group appears in both test and development, or in two validation folds."""
    if plan.group_key is None:
        return
    group = {c.clip_id: _group_of(c, plan.group_key) for c in clips}
    test_groups = {group[i] for i in plan.test}
    seen: dict[str, int] = {}
    for k, fold in enumerate(plan.folds):
        for i in fold["val"] + fold["train"]:
            if group[i] in test_groups:
                raise DatasetError(f"leakage: group {group[i]!r} is in the test set and in fold {k}")
        for g in {group[i] for i in fold["val"]}:
            if g in seen:
                raise DatasetError(f"leakage: group {g!r} is in validation folds {seen[g]} and {k}")
            seen[g] = k
        if {group[i] for i in fold["val"]} & {group[i] for i in fold["train"]}:
            raise DatasetError(f"leakage: fold {k} shares groups between train and validation")


def parse_test_group(text: str, *, flag: str = "--test-group") -> dict:
    """``"string=2"`` or ``"speaker=spk01f,spk02c"`` → the :func:`make_split` overrides that hold those groups out
    (``flag``: the option named in the error)."""
    key, eq, values = (text or "").partition("=")
    groups = [v.strip() for v in values.split(",") if v.strip()]
    if not eq or not key.strip() or not groups:
        raise ConfigError(f"{flag} must look like KEY=VALUE[,VALUE…], e.g. string=2; got {text!r}")
    return {"group_key": key.strip(), "test_groups": groups, "official": False}


def default_split(dataset, *, seed: int = 0, n_folds: int = 5, test_group: str | None = None,
                  **overrides) -> SplitPlan:
    """The split a dataset's layout conventionally uses (its reader's ``split_convention``/``fixed_split``: EGFxSet
    holds out string 5, vowels hold out speakers, TinySOL uses its official folds, GTZAN its fault-filtered split
    when given), with keyword overrides; ``test_group="string=2"`` holds out other groups."""
    if test_group:
        overrides = {**overrides, **parse_test_group(test_group)}
    if not overrides and (fixed := dataset.reader.fixed_split(dataset, seed=seed)) is not None:
        return fixed
    opts = dataset.reader.split_convention(dataset)
    note = opts.pop("note", "")
    if overrides.keys() & {"group_key", "test_groups"}:
        note = ""  # the user chose what is held out; the convention's caveat no longer applies
    opts.update(overrides)
    official = None
    if opts.pop("official", False):
        official = {c.clip_id: dataset.reader.official_split(c) for c in dataset.clips}
    plan = make_split(dataset.clips, official=official, seed=seed, n_folds=n_folds, **opts)
    check_no_leakage(plan, dataset.clips)
    plan.note = note
    return plan
