"""The classical lessons' tools: PCA and linear / logistic / softmax regression by hand (scikit-learn's contract)
and leakage-free cross-validation.  Their metrics are in :mod:`dl4mir.metrics`, with every other metric."""
from dl4mir.classic.estimators import PCA, LinearRegression, LogisticRegression, SoftmaxRegression, softmax
from dl4mir.classic.evaluation import cross_validate

__all__ = ["PCA", "LinearRegression", "LogisticRegression", "SoftmaxRegression", "softmax", "cross_validate"]
