"""The by-hand estimators against scikit-learn, the metrics against sklearn.metrics, and CV without leakage."""
import numpy as np
import pytest
import sklearn.decomposition as skd
import sklearn.linear_model as skl
import sklearn.metrics as skm
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler

from dl4mir.classic import PCA, LinearRegression, LogisticRegression, SoftmaxRegression, cross_validate, softmax
from dl4mir.metrics import auc, classification_report, confusion_matrix, roc_curve
from dl4mir.errors import Dl4mirError


def test_pca_matches_sklearn_up_to_sign():
    X = np.random.default_rng(0).standard_normal((200, 6)) @ np.random.default_rng(1).standard_normal((6, 6))
    ours = PCA(n_components=4, standardize=True).fit(X)
    ref = skd.PCA(n_components=4).fit(StandardScaler().fit_transform(X))
    for a, b in zip(ours.components_, ref.components_):
        assert min(np.abs(a - b).max(), np.abs(a + b).max()) < 1e-6
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, atol=1e-6)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-6)
    Z = ours.transform(X)
    assert np.allclose(np.abs(Z), np.abs(ref.transform(StandardScaler().fit_transform(X))), atol=1e-6)
    full = PCA(n_components=6, standardize=True).fit(X)
    # the default centers only, like scikit-learn's PCA
    centered, sk = PCA(n_components=3).fit(X), skd.PCA(n_components=3).fit(X)
    for a, b in zip(centered.components_, sk.components_):
        assert min(np.abs(a - b).max(), np.abs(a + b).max()) < 1e-6
    np.testing.assert_allclose(centered.explained_variance_, sk.explained_variance_, rtol=1e-6)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-8)


def test_pca_with_more_features_than_samples_matches_sklearn():
    X = np.random.default_rng(3).standard_normal((40, 300))
    X[:, :5] += 5 * np.random.default_rng(4).standard_normal((40, 1))  # one strong direction
    ours = PCA(n_components=3, standardize=True).fit(X)
    ref = skd.PCA(n_components=3).fit(StandardScaler().fit_transform(X))
    for a, b in zip(ours.components_, ref.components_):
        assert min(np.abs(a - b).max(), np.abs(a + b).max()) < 1e-6
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, atol=1e-6)


def test_estimator_contract():
    for est in (PCA(n_components=3), LinearRegression(solver="gd"), LogisticRegression(l2=0.1), SoftmaxRegression()):
        c = clone(est)
        assert c.get_params() == est.get_params()
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    lr = LogisticRegression()
    assert lr.fit(X, y) is lr and hasattr(lr, "coef_") and hasattr(lr, "loss_curve_")
    with pytest.raises(Exception):
        LogisticRegression().predict(X)  # not fitted


def test_linear_regression_gd_reaches_the_closed_form_and_sklearn():
    X, y = make_regression(n_samples=300, n_features=3, noise=5.0, random_state=0)
    X = X * np.array([1.0, 100.0, 0.01]) + np.array([5.0, -300.0, 0.0])  # wildly different units
    ref = skl.LinearRegression().fit(X, y)
    cf = LinearRegression().fit(X, y)
    gd = LinearRegression(solver="gd", learning_rate=0.5, n_iter=2000).fit(X, y)
    np.testing.assert_allclose(cf.coef_, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(gd.coef_, ref.coef_, rtol=1e-4)
    assert abs(gd.intercept_ - ref.intercept_) < 1e-3 * (1 + abs(ref.intercept_))
    assert gd.loss_curve_[-1] < gd.loss_curve_[0] and np.all(np.diff(gd.loss_curve_) <= 1e-12)
    assert gd.path_.shape[1] == 4


def test_logistic_regression_agrees_with_sklearn():
    X, y = make_classification(n_samples=600, n_features=5, n_informative=3, random_state=1)
    ours = LogisticRegression(learning_rate=0.5, n_iter=5000).fit(X, y)
    ref = skl.LogisticRegression(C=1e6, max_iter=5000).fit(X, y)
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.99
    np.testing.assert_allclose(ours.predict_proba(X)[:, 1], ref.predict_proba(X)[:, 1], atol=0.02)


def test_softmax_regression_agrees_with_sklearn():
    X, y = make_classification(n_samples=900, n_features=8, n_informative=6, n_classes=4, random_state=2)
    ours = SoftmaxRegression(learning_rate=0.5, n_iter=4000, l2=1e-3).fit(X, y)
    ref = skl.LogisticRegression(C=1 / (1e-3 * len(X)), max_iter=5000).fit(StandardScaler().fit_transform(X), y)
    assert np.mean(ours.predict(X) == ref.predict(StandardScaler().fit(X).transform(X))) >= 0.99


def test_softmax_max_subtraction_survives_huge_logits():
    p = softmax(np.array([[1000.0, 1001.0, 999.0], [-1e4, 0.0, 1e4]]))
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1)
    assert p[1].argmax() == 2


def test_bad_input_is_named():
    with pytest.raises(Dl4mirError, match="non-finite"):
        PCA().fit(np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]))
    with pytest.raises(Dl4mirError, match="binary"):
        LogisticRegression().fit(np.random.rand(9, 2), [0, 1, 2] * 3)
    with pytest.raises(Dl4mirError, match="rows"):
        LinearRegression().fit(np.random.rand(5, 2), [1, 2])
    with pytest.raises(Dl4mirError, match="2-D"):
        PCA().fit(np.zeros(5))


def test_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 3, 200))
    cm, labels = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred))
    rep = classification_report(y_true, y_pred)
    assert rep["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert rep["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
    assert rep["macro"]["f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert rep["per_class"]["1"]["precision"] == pytest.approx(skm.precision_score(y_true, y_pred, average=None)[1])
    yb, pb = y_true > 0, y_pred > 0
    rb = classification_report(yb, pb)
    tn, fp, fn, tp = skm.confusion_matrix(yb, pb).ravel()
    assert rb["tpr"] == pytest.approx(tp / (tp + fn)) and rb["fpr"] == pytest.approx(fp / (fp + tn))
    assert rb["tnr"] + rb["fpr"] == pytest.approx(1) and rb["tpr"] + rb["fnr"] == pytest.approx(1)
    scores = yb + rng.normal(0, 0.8, 200)
    fpr, tpr, _ = roc_curve(yb, scores, positive=True)
    assert auc(fpr, tpr) == pytest.approx(skm.roc_auc_score(yb, scores))


def test_cross_validation_uses_the_plan(quick_guitar_fx):
    from dl4mir.data.splits import default_split

    clips = quick_guitar_fx.clips
    plan = default_split(quick_guitar_fx, n_folds=3)
    ids = [c.clip_id for c in clips]
    y = np.array([c.labels["effect_type"] == "distortion" for c in clips])
    X = np.c_[y + np.random.default_rng(0).normal(0, 0.3, len(y)), np.random.default_rng(1).normal(size=len(y))]
    res = cross_validate(lambda: LogisticRegression(), X, y, ids, plan)
    assert len(res["folds"]) == 3 and res["test"]["n"] == len(plan.test)
    assert res["cv"]["accuracy"]["mean"] > 0.9 and 0 <= res["cv"]["accuracy"]["std"] < 0.1
