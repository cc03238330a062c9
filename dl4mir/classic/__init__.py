"""The classical lessons' tools: PCA and linear / logistic / softmax regression by hand (scikit-learn's contract),
metrics and leakage-free cross-validation."""
from dl4mir.classic.estimators import PCA, LinearRegression, LogisticRegression, SoftmaxRegression, softmax
from dl4mir.classic.evaluation import cross_validate
from dl4mir.classic.metrics import auc, classification_report, confusion_matrix, rates, roc_curve, silhouette

__all__ = ["PCA", "LinearRegression", "LogisticRegression", "SoftmaxRegression", "softmax", "cross_validate",
           "auc", "classification_report", "confusion_matrix", "rates", "roc_curve", "silhouette"]
