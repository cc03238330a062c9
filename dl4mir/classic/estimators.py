"""The course's estimators written "by hand", with scikit-learn's contract.

``__init__`` stores parameters only; ``fit`` returns ``self``; learned attributes end in ``_``; unsupervised
``fit(X, y=None)``.  Each is checked against scikit-learn in the tests.  The gradient-descent ones keep their
``loss_curve_`` (and the linear regression its parameter ``path_``) so the lessons can plot the descent.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from dl4mir.errors import Dl4mirError


def _check_X(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise Dl4mirError(f"X must be 2-D (samples, features); got shape {X.shape}")
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise Dl4mirError(f"X has non-finite values (first at row {bad[0]}, column {bad[1]})")
    return X


def _check_Xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = _check_X(X)
    y = np.asarray(y).ravel()
    if len(y) != len(X):
        raise Dl4mirError(f"X has {len(X)} rows but y has {len(y)}")
    return X, y


def _top_eigh(M: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenvalues (descending, clipped at 0) and eigenvectors of a symmetric matrix."""
    from scipy.linalg import eigh

    n = len(M)
    eigval, eigvec = eigh(M, subset_by_index=[n - k, n - 1])  # ascending
    return np.clip(eigval[::-1], 0, None), eigvec[:, ::-1]


class PCA(TransformerMixin, BaseEstimator):
    """Principal components by eigendecomposition of the covariance matrix, as taught.

    Steps: center (and, with ``standardize=True``, scale each feature to unit variance, as the course's lesson
    does) → covariance ``C = XᵀX / (n − 1)`` → eigenvectors of ``C``
    sorted by eigenvalue → project onto the first ``n_components``.  With more features than samples the same
    eigenvectors come from the smaller Gram matrix ``XXᵀ``.  ``explained_variance_ratio_`` is each
    eigenvalue over their sum (the "% variance" of the lesson).

    The default centers only, as scikit-learn's ``PCA`` does; ``standardize=True`` equals scikit-learn's
    ``StandardScaler`` followed by ``PCA``.
    """

    def __init__(self, n_components: int = 2, standardize: bool = False):
        self.n_components = n_components
        self.standardize = standardize

    def fit(self, X, y=None):
        X = _check_X(X)
        if not 1 <= self.n_components <= min(X.shape):
            raise Dl4mirError(f"n_components={self.n_components} must be in 1..{min(X.shape)} "
                              f"(X has {X.shape[0]} samples and {X.shape[1]} features)")
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) if self.standardize else np.ones(X.shape[1])
        self.scale_[self.scale_ == 0] = 1.0  # a constant feature carries no variance; leave it at zero
        Z = (X - self.mean_) / self.scale_
        n, d = Z.shape
        k = self.n_components
        # Only the top k eigenpairs are needed (LAPACK's subset driver is several times faster than the full
        # decomposition); the total variance for the "% variance" is the matrix's trace.
        if d <= n:
            M = Z.T @ Z / (n - 1)
            eigval, eigvec = _top_eigh(M, k)
        else:
            # More features than samples (e.g. 2,001 FFT bins, 300 clips): the covariance's non-zero eigenvalues
            # are those of the n × n Gram matrix Z Zᵀ/(n−1), and Zᵀu/‖Zᵀu‖ are its eigenvectors; O(n³), not O(d³).
            M = Z @ Z.T / (n - 1)
            eigval, u = _top_eigh(M, k)
            eigvec = Z.T @ u
            eigvec /= np.maximum(np.linalg.norm(eigvec, axis=0), 1e-12)
        # fix each vector's sign (largest-magnitude entry positive) so results are reproducible
        signs = np.sign(eigvec[np.abs(eigvec).argmax(axis=0), np.arange(eigvec.shape[1])])
        eigvec = eigvec * np.where(signs == 0, 1, signs)
        self.components_ = eigvec.T
        self.explained_variance_ = eigval
        self.explained_variance_ratio_ = self.explained_variance_ / max(float(np.trace(M)), 1e-300)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self)
        return ((_check_X(X) - self.mean_) / self.scale_) @ self.components_.T

    def inverse_transform(self, Z):
        check_is_fitted(self)
        return np.asarray(Z) @ self.components_ * self.scale_ + self.mean_


class LinearRegression(RegressorMixin, BaseEstimator):
    """Least squares, closed form (normal equations) or by gradient descent on ½·MSE.

    With ``solver="gd"`` the features are standardized internally so one learning rate suits any units; the
    reported ``coef_``/``intercept_`` are in the original units.  ``path_`` holds ``(intercept, coef…)`` per
    iteration *in standardized units* (what the lesson's contour plot shows), ``loss_curve_`` the ½·MSE.
    """

    def __init__(self, solver: str = "closed_form", learning_rate: float = 0.1, n_iter: int = 500,
                 tol: float = 1e-10):
        self.solver = solver
        self.learning_rate = learning_rate
        self.n_iter = n_iter
        self.tol = tol

    def fit(self, X, y):
        X, y = _check_Xy(X, y)
        y = y.astype(float)
        self.n_features_in_ = X.shape[1]
        if self.solver == "closed_form":
            A = np.hstack([np.ones((len(X), 1)), X])
            theta, *_ = np.linalg.lstsq(A, y, rcond=None)
            self.intercept_, self.coef_ = theta[0], theta[1:]
            self.loss_curve_ = [0.5 * np.mean((A @ theta - y) ** 2)]
            return self
        if self.solver != "gd":
            raise Dl4mirError(f"solver must be 'closed_form' or 'gd', got {self.solver!r}")
        mu, sd = X.mean(axis=0), X.std(axis=0)
        sd[sd == 0] = 1.0
        Z = (X - mu) / sd
        w, b = np.zeros(Z.shape[1]), 0.0
        self.loss_curve_, self.path_ = [], []
        for _ in range(self.n_iter):
            err = Z @ w + b - y
            loss = 0.5 * np.mean(err ** 2)
            self.loss_curve_.append(loss)
            self.path_.append(np.concatenate([[b], w]))
            w -= self.learning_rate * Z.T @ err / len(y)  # ∂(½·MSE)/∂w
            b -= self.learning_rate * err.mean()
            if len(self.loss_curve_) > 1 and abs(self.loss_curve_[-2] - loss) < self.tol:
                break
        self.path_ = np.array(self.path_)
        self.coef_ = w / sd
        self.intercept_ = b - np.sum(w * mu / sd)
        return self

    def predict(self, X):
        check_is_fitted(self)
        return _check_X(X) @ self.coef_ + self.intercept_


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))  # overflow-free σ(z)


class _GDClassifier(ClassifierMixin, BaseEstimator):
    """Shared gradient-descent machinery: internal standardization, L2 on the weights (not the bias)."""

    def __init__(self, learning_rate: float = 0.5, n_iter: int = 2000, l2: float = 0.0, tol: float = 1e-9):
        self.learning_rate = learning_rate
        self.n_iter = n_iter
        self.l2 = l2
        self.tol = tol

    def _prepare(self, X, y):
        X, y = _check_Xy(X, y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        self.n_features_in_ = X.shape[1]
        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        return (X - self.mean_) / self.scale_, y_idx

    def _z(self, X):
        check_is_fitted(self)
        return ((_check_X(X) - self.mean_) / self.scale_) @ self.W_ + self.b_

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class LogisticRegression(_GDClassifier):
    """Binary logistic regression by gradient descent on the mean binary cross-entropy (+ ½·l2·‖w‖²).

    ``predict`` thresholds ``P(y = classes_[1])`` at ``threshold`` (0.5, as in the lesson).
    """

    def __init__(self, learning_rate: float = 0.5, n_iter: int = 2000, l2: float = 0.0, tol: float = 1e-9,
                 threshold: float = 0.5):
        super().__init__(learning_rate=learning_rate, n_iter=n_iter, l2=l2, tol=tol)
        self.threshold = threshold

    def fit(self, X, y):
        Z, y_idx = self._prepare(X, y)
        if len(self.classes_) != 2:
            raise Dl4mirError(f"LogisticRegression is binary; y has {len(self.classes_)} classes "
                              "(use SoftmaxRegression)")
        t = y_idx.astype(float)
        w, b = np.zeros(Z.shape[1]), 0.0
        self.loss_curve_ = []
        eps = 1e-12
        for _ in range(self.n_iter):
            p = _sigmoid(Z @ w + b)
            loss = -np.mean(t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps)) + 0.5 * self.l2 * w @ w
            self.loss_curve_.append(loss)
            g = p - t  # ∂BCE/∂z
            w -= self.learning_rate * (Z.T @ g / len(t) + self.l2 * w)
            b -= self.learning_rate * g.mean()
            if len(self.loss_curve_) > 1 and abs(self.loss_curve_[-2] - loss) < self.tol:
                break
        self.W_, self.b_ = w[:, None], np.array([b])
        # in the original units: z = x·coef_ + intercept_
        self.coef_ = w / self.scale_
        self.intercept_ = b - np.sum(w * self.mean_ / self.scale_)
        return self

    def predict_proba(self, X):
        p1 = _sigmoid(self._z(X)[:, 0])
        return np.stack([1 - p1, p1], axis=1)

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= self.threshold).astype(int)]

    def decision_function(self, X):
        return self._z(X)[:, 0]


class SoftmaxRegression(_GDClassifier):
    """Multinomial logistic regression: softmax with the max-subtraction trick, categorical cross-entropy,
    L2 regularization, full-batch gradient descent."""

    def fit(self, X, y):
        Z, y_idx = self._prepare(X, y)
        k = len(self.classes_)
        if k < 2:
            raise Dl4mirError("need at least two classes")
        T = np.eye(k)[y_idx]
        W, b = np.zeros((Z.shape[1], k)), np.zeros(k)
        self.loss_curve_ = []
        for _ in range(self.n_iter):
            P = softmax(Z @ W + b)
            loss = -np.mean(np.sum(T * np.log(P + 1e-12), axis=1)) + 0.5 * self.l2 * np.sum(W * W)
            self.loss_curve_.append(loss)
            G = (P - T) / len(T)  # ∂CE/∂logits
            W -= self.learning_rate * (Z.T @ G + self.l2 * W)
            b -= self.learning_rate * G.sum(axis=0)
            if len(self.loss_curve_) > 1 and abs(self.loss_curve_[-2] - loss) < self.tol:
                break
        self.W_, self.b_ = W, b
        return self

    def predict_proba(self, X):
        return softmax(self._z(X))

    def decision_function(self, X):
        return self._z(X)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax; subtracting each row's maximum first keeps ``exp`` from overflowing."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
