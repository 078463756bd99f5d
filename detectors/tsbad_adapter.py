"""TSB-AD's model zoo (Liu and Paparrizos, "The Elephant in the Room: Towards A Reliable Time-Series
Anomaly Detection Benchmark", NeurIPS 2024) through Faultlab's Detector interface.

Every TSB-AD model that runs here on the CPU is registered as ``tsbad:<Model>`` under TSB-AD's own
name (``tsbad:Sub_PCA``, ``tsbad:POLY``, ``tsbad:CNN``, ...) when TSB-AD (``pip install --no-deps
tsb-ad``: it pins numpy<2) and the model's dependencies (``pip install 'faultlab[tsbad]'``) are
installed. The others are in :data:`UNAVAILABLE_DETECTORS` with the reason, which ``faultlab list
detectors --all`` prints: the foundation models (they need downloaded weights), AnomalyTransformer
(it calls ``.cuda()`` unconditionally) and any model whose dependency is missing.

**Hyper-parameters** are the keyword arguments of TSB-AD's ``run_<Model>`` (``TSB_AD.model_wrapper``)
with TSB-AD's tuned values as defaults: ``TSB_AD.HP_list.Optimal_Multi_algo_HP_dict`` for the models
given the matrix, ``Optimal_Uni_algo_HP_dict`` for the per-series ones, else ``run_<Model>``'s own
default. They are typed and bounded (``--param tsbad:PCA.n_components=0.5``; unknown names are
refused). The deep models also take ``epochs`` (the number ``run_<Model>`` trains for, which TSB-AD
does not tune), Donut ``mc_samples`` and FITS ``cut_freq`` (class defaults ``run_<Model>`` keeps; small
values make CI runs fast). Every model takes ``scaler`` and ``threshold_quantile``, the per-series ones
``max_series``.

**Input.** The metrics are scaled with training statistics first (``scaler``: a robust z-score by
default, as for ``pyod:*``; see :mod:`faultlab.detectors.preprocess`). Multivariate models get the
``T x F`` matrix. Univariate-only models run on each series alone and their scores are combined the
way ``zscore`` combines per-series deviations: each series' scores are normalised by their
distribution over the training part (:func:`~faultlab.detectors.preprocess.fit_robust`: median and
MAD), and a step's score is the maximum over the series. Series constant over the whole training
part are left out of the per-series models (nothing can be fitted on a constant; ``zscore`` and
``static_threshold`` still watch them). A series the model fails on in training (a window longer than the series, a clustering that
finds too few subsequences) is left out (``skipped_series_``, with the reason); one it fails on
when scoring has no say there (``scoring_failures_``); the board's info rows count both, and only a
model that fails on every series is a BadInput. ``max_series`` caps the per-series models (default: all
series) at the series with the largest training variance after scaling, for the slow ones
(NORMA, KShapeAD, SAND on hundreds of series). The periodicity models (``periodicity``: the window is
the series' ACF period of that rank, 125 steps when it has none) also take ``window``, a fixed
window instead.

**What a model is fitted on** (``fitted_on``; ``sees_test_data`` is True unless ``train``; both are
in the model's description, so ``faultlab list detectors`` shows them, and ``sees_test_data`` is in
the board's info rows, :attr:`TSBADDetector.info_`):

- ``train``: fitted on the fault-free training part, the test part scored with the fitted model
  (TSB-AD's semi-supervised protocol, and Faultlab's). TSB-AD's unsupervised models whose
  ``decision_function`` applies the same preprocessing as their ``fit`` (PCA, Sub_PCA, HBOS,
  Sub_HBOS, KMeansAD, KMeansAD_U) are fitted on the training part too. Where TSB-AD derives the
  window from the scored series (``periodicity``: Sub_OCSVM, Sub_MCD), it is derived from the
  training series here.
- ``test``: TSB-AD's unsupervised protocol, kept because the model cannot score new data: it is
  fitted on the series it scores (POLY, Series2Graph, ... have no decision function for new data;
  IForest, LOF, KNN, COPOD, CBLOF skip in ``decision_function`` the normalisation their ``fit``
  applies). Such a model sees the test data, faults included (its ``periodicity`` window, too, is
  the scored series' period): compare it with its own kind only. Its training scores (threshold,
  per-series normalisation) come from running it on the training part alone.
- ``online``: Left_STAMPi and SAND start from the training part and then follow the test part step
  by step (TSB-AD's protocol: the model is given ``train + test``), adapting to what they saw,
  faults included. Their training scores: SAND scores the training part with the model it starts
  on it; Left_STAMPi scores nothing while it warms up, so the first half of the training part
  starts it and the scores of the second half stand in for the first half too.

**Thresholds** follow the rule of every detector (:class:`~faultlab.detectors.base.Detector`): the
``threshold_quantile`` (0.99) of the fault-free training scores, so F1 [own] and the fault-free
alarm rate mean the same as for the other detectors.

**Scores are TSB-AD's** (:meth:`TSBADDetector.raw_scores` gives them before the per-series
normalisation), alignment included: most windowed models give a window's score to its
middle step (``ceil((w-1)/2)`` steps of padding before, ``(w-1)//2`` after), so unlike Faultlab's own
windowed detectors they look half a window ahead; the forecasting ones (CNN, LSTMAD) score the step
after each window. A model on the matrix that fails on the data (a window longer than the training
part, a clustering that finds no separation) raises BadInput naming the model and the reason: the
board shows n/a.

**Seeds**: each model call runs under :func:`~faultlab.detectors.torchkit.seeded` (torch, NumPy's
global generator, deterministic algorithms) and Python's ``random``. Models with a random state
fixed inside TSB-AD (IForest, PCA, CBLOF at 0, MCD at 2024) give the same scores under every seed.

**Compatibility.** TSB-AD 1.5 was written for NumPy 1, pandas 2 and scikit-learn < 1.6. Three shims,
applied to TSB-AD's own modules only when a model is first used (:func:`_load`), keep its code
running unchanged: ``np.Inf`` / ``np.NaN`` and ``np.sum`` over a generator for the modules that use
them; a ``check_is_fitted`` that checks the named attributes (scikit-learn's now demands
``__sklearn_tags__``, which TSB-AD's detectors lack); ``bfill()`` for Series2Graph's
``fillna(method="bfill")``. TSB-AD's PCA also forgets at scoring time the all-zero columns its fit
drops (:func:`_pruned_pca` applies the same columns); its training scores are unchanged.

Saving never pickles a model: the training matrix is stored and loading refits it under the same
seed, which rebuilds the same model on the same TSB-AD version and machine.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib
import importlib.util
import inspect
import io
import math
import random
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, create_model

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector
from faultlab.detectors.params import Params
from faultlab.detectors.preprocess import Scaler, fit_robust, fit_scaler
from faultlab.detectors.registry import DETECTORS
from faultlab.errors import BadInput

INSTALL_HINT = "pip install --no-deps tsb-ad, then pip install 'faultlab[tsbad]' (TSB-AD pins numpy<2)"
_TINY = 1e-12


@dataclass(frozen=True)
class Model:
    """One TSB-AD model: what it is given, what it is fitted on, where it lives, what it needs."""

    multivariate: bool
    fitted_on: Literal["train", "test", "online"]
    module: str  # TSB_AD.models.<module>
    needs: tuple[str, ...] = ()  # importable names beyond TSB-AD's core (numpy, scipy, sklearn, statsmodels)
    #: constructor arguments ``run_<Model>`` fixes, offered as parameters: (parameter, argument, run_<Model>'s value)
    extra: tuple[tuple[str, str, int], ...] = ()
    validates: bool = False  # keeps the last 20 % of the training steps for validation; it must hold a window
    #: online models: the share of the training part that starts the model when the training part is scored
    online_init: float = 1.0
    ci: tuple[tuple[str, Any], ...] = ()  # CI parameters besides the generic small ones


def _epochs(n: int, argument: str = "epochs") -> tuple[str, str, int]:
    return ("epochs", argument, n)


#: what TSB-AD's wrapper itself imports (its window rule: statsmodels' ACF)
_CORE = ("statsmodels", "scipy", "sklearn")
_HURST, _TORCH = ("hurst",), ("torch", "torchinfo", "tqdm")
MODELS: dict[str, Model] = {
    # multivariate: the matrix, TSB-AD's tuned multivariate hyper-parameters
    "PCA": Model(True, "train", "PCA", _HURST),
    "HBOS": Model(True, "train", "HBOS", (*_HURST, "numba")),
    "KMeansAD": Model(True, "train", "KMeansAD"),
    "MCD": Model(True, "train", "MCD", _HURST),
    "OCSVM": Model(True, "train", "OCSVM", _HURST),
    "AutoEncoder": Model(True, "train", "AE", (*_HURST, "torch", "numba"), (_epochs(50),)),
    "CNN": Model(True, "train", "CNN", _TORCH, (_epochs(50),)),
    "LSTMAD": Model(True, "train", "LSTMAD", _TORCH, (_epochs(50),)),
    "TranAD": Model(True, "train", "TranAD", ("torch", "tqdm"), (_epochs(50),)),
    "USAD": Model(True, "train", "USAD", ("torch", "tqdm"), (_epochs(10),), validates=True),
    "OmniAnomaly": Model(True, "train", "OmniAnomaly", ("torch", "tqdm"), (_epochs(50),), validates=True),
    "Donut": Model(True, "train", "Donut", _TORCH, (_epochs(50, "num_epochs"), ("mc_samples", "mc_samples", 1024))),
    "TimesNet": Model(True, "train", "TimesNet", _TORCH, (_epochs(50),), validates=True),
    "FITS": Model(True, "train", "FITS", _TORCH, (_epochs(50), ("cut_freq", "cut_freq", 12)), validates=True),
    "IForest": Model(True, "test", "IForest", _HURST),
    "LOF": Model(True, "test", "LOF", _HURST),
    "KNN": Model(True, "test", "KNN", _HURST),
    "COPOD": Model(True, "test", "COPOD", ("numba",)),
    "CBLOF": Model(True, "test", "CBLOF", ("numba",)),
    "COF": Model(True, "test", "COF"),
    "EIF": Model(True, "test", "EIF"),
    "RobustPCA": Model(True, "test", "RobustPCA"),
    # univariate only: one series at a time, TSB-AD's tuned univariate hyper-parameters
    "Sub_PCA": Model(False, "train", "PCA", _HURST),
    "Sub_HBOS": Model(False, "train", "HBOS", (*_HURST, "numba")),
    "KMeansAD_U": Model(False, "train", "KMeansAD"),
    "Sub_MCD": Model(False, "train", "MCD", _HURST),
    "Sub_OCSVM": Model(False, "train", "OCSVM", _HURST),
    "POLY": Model(False, "test", "POLY", ("arch",)),
    "Series2Graph": Model(False, "test", "Series2Graph", ("networkx",)),
    "KShapeAD": Model(False, "test", "SAND", ("tslearn", "stumpy")),
    "NORMA": Model(False, "test", "NormA", ("tslearn", "stumpy"), ci=(("clustering", "hierarchical"),)),
    "MatrixProfile": Model(False, "test", "MatrixProfile", ("stumpy",)),
    "Sub_IForest": Model(False, "test", "IForest", _HURST),
    "Sub_LOF": Model(False, "test", "LOF", _HURST),
    "Sub_KNN": Model(False, "test", "KNN", _HURST),
    "FFT": Model(False, "test", "FFT"),
    "SR": Model(False, "test", "SR"),
    "Left_STAMPi": Model(False, "online", "Left_STAMPi", ("stumpy",), online_init=0.5),
    "SAND": Model(False, "online", "SAND", ("tslearn", "stumpy"), ci=(("window", 5),)),
}

_WEIGHTS = "a foundation model: it needs {what} and weights downloaded at first use, which this adapter does not fetch"
#: Models of TSB-AD's pools that never run here, with the reason.
NOT_ADAPTED: dict[str, str] = {
    "OFA": "needs GPT-2's weights downloaded from the Hugging Face hub (transformers), which this adapter does not fetch",
    "Lag_Llama": _WEIGHTS.format(what="lag-llama (not on PyPI) and gluonts"),
    "Chronos": _WEIGHTS.format(what="autogluon.timeseries"),
    "TimesFM": _WEIGHTS.format(what="timesfm"),
    "MOMENT_ZS": _WEIGHTS.format(what="momentfm"),
    "MOMENT_FT": _WEIGHTS.format(what="momentfm"),
    "AnomalyTransformer": "TSB-AD 1.5's AnomalyTransformer moves tensors with .cuda() unconditionally: it needs a CUDA GPU",
}

#: Each hyper-parameter of a ``run_<Model>``: its type and bounds.
_HP_TYPES: dict[str, tuple[Any, dict[str, Any]]] = {
    "periodicity": (int, {"ge": 1, "le": 3, "description": "window = the rank-th ACF period of the series"}),
    "slidingWindow": (int, {"ge": 1, "le": 2000}),
    "window_size": (int, {"ge": 2, "le": 2000}),
    "win_size": (int, {"ge": 2, "le": 2000}),
    "n_components": (int | float | None, {"gt": 0, "description": "int: components; in (0, 1): explained variance; None: all"}),
    "n_estimators": (int, {"ge": 1, "le": 5000}),
    "max_features": (int | float, {"gt": 0, "description": "int: features per tree; float in (0, 1]: their share"}),
    "n_neighbors": (int, {"ge": 1, "le": 1000}),
    "metric": (Literal["minkowski", "manhattan", "euclidean"], {}),
    "method": (Literal["largest", "mean", "median"], {}),
    "n_bins": (int, {"ge": 2, "le": 1000}),
    "tol": (float, {"gt": 0, "lt": 1}),
    "power": (int, {"ge": 1, "le": 10}),
    "clustering": (Literal["hierarchical", "kshape"], {}),
    "n_clusters": (int, {"ge": 2, "le": 1000}),
    "alpha": (float, {"gt": 0, "lt": 1}),
    "n_trees": (int, {"ge": 1, "le": 5000}),
    "max_iter": (int, {"ge": 1, "le": 100_000}),
    "support_fraction": (float | None, {"gt": 0, "le": 1}),
    "kernel": (Literal["linear", "poly", "rbf", "sigmoid"], {}),
    "nu": (float, {"gt": 0, "le": 1}),
    "hidden_neurons": (list[int], {"min_length": 1}),
    "num_channel": (list[int], {"min_length": 1}),
    "lr": (float, {"gt": 0, "le": 1}),
    "batch_size": (int, {"ge": 1, "le": 65_536}),
    "ifft_parameters": (int, {"ge": 1}),
    "local_neighbor_window": (int, {"ge": 1}),
    "local_outlier_threshold": (float, {"gt": 0}),
    "max_region_size": (int, {"ge": 1}),
    "max_sign_change_distance": (int, {"ge": 1}),
}
_NOT_HP = {"data", "data_train", "data_test", "n_jobs"}


def tsbad_available() -> bool:
    return importlib.util.find_spec("TSB_AD") is not None


def require_tsbad(owner: str) -> None:
    """BadInput with the install commands when TSB-AD is missing."""
    if not tsbad_available():
        raise BadInput(f"{owner} needs TSB-AD, which is not installed: {INSTALL_HINT}")


def default_hp(name: str) -> dict[str, Any]:
    """``run_<name>``'s keyword arguments with TSB-AD's tuned values (``TSB_AD.HP_list``) over its defaults."""
    from TSB_AD import HP_list, model_wrapper

    signature = inspect.signature(getattr(model_wrapper, f"run_{name}"))
    own = {k: p.default for k, p in signature.parameters.items() if k not in _NOT_HP}
    tuned = (HP_list.Optimal_Multi_algo_HP_dict if MODELS[name].multivariate else HP_list.Optimal_Uni_algo_HP_dict).get(name, {})
    return {**own, **{k: v for k, v in tuned.items() if k in own}}


# ---- the shims (TSB-AD 1.5 on NumPy 2, pandas 3, scikit-learn >= 1.6) ------------------------
class _NumPy1(types.ModuleType):
    """NumPy as TSB-AD's modules knew it: ``Inf``, ``NaN`` and ``sum`` over a generator."""

    Inf = np.inf
    NaN = np.nan

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def sum(a: Any, *args: Any, **kwargs: Any) -> Any:
        return builtins.sum(a, *args, **kwargs) if isinstance(a, types.GeneratorType) else np.sum(a, *args, **kwargs)


_NUMPY1_MODULES = ("TSB_AD.utils.torch_utility", "TSB_AD.models.SAND", "TSB_AD.models.RobustPCA", "TSB_AD.models.Series2Graph")


def _check_is_fitted(estimator: Any, attributes: Any = None, msg: str | None = None, all_or_any: Callable = all) -> None:
    from sklearn.exceptions import NotFittedError

    names = [attributes] if isinstance(attributes, str) else list(attributes or [])
    if names and not all_or_any(hasattr(estimator, a) for a in names):
        raise NotFittedError(f"{type(estimator).__name__} is not fitted")


def _bfill(self: Any, arr: np.ndarray) -> np.ndarray:
    import pandas as pd

    return pd.DataFrame(arr).bfill().to_numpy()


@functools.cache
def _load(module: str) -> types.ModuleType:
    """``TSB_AD.models.<module>`` with the shims applied (and TSB-AD's wrapper, which imports it lazily)."""
    importlib.import_module("TSB_AD.model_wrapper")
    found = importlib.import_module(f"TSB_AD.models.{module}")
    for name in _NUMPY1_MODULES:
        if name in sys.modules:
            sys.modules[name].np = _NumPy1("numpy")
    for name, mod in list(sys.modules.items()):
        if name.startswith("TSB_AD.models.") and hasattr(mod, "check_is_fitted"):
            mod.check_is_fitted = _check_is_fitted
    if module == "Series2Graph":
        found.Series2Graph._Series2Graph__pandas_fill = _bfill
    return found


@functools.cache
def _pruned_pca() -> type:
    """TSB-AD's PCA that scores new data on the columns its fit kept (its ``zero_pruning``)."""
    from scipy.spatial.distance import cdist

    base = _load("PCA").PCA
    window = importlib.import_module("TSB_AD.models.feature").Window

    class PrunedPCA(base):  # type: ignore[misc, valid-type]
        def fit(self, X: np.ndarray, y: Any = None) -> Any:
            super().fit(X, y)
            standardised = self.scaler_.transform(window(window=self.slidingWindow).convert(X))
            self.kept_ = np.any(standardised != 0, axis=0) if self.zero_pruning else slice(None)
            return self

        def decision_function(self, X: np.ndarray) -> np.ndarray:
            windows = self.scaler_.transform(window(window=self.slidingWindow).convert(X))[:, self.kept_]
            scores = np.sum(cdist(windows, self.selected_components_) / self.selected_w_components_, axis=1).ravel()
            if scores.shape[0] < X.shape[0]:  # TSB-AD's padding: the window's score at its middle step
                w = self.slidingWindow
                scores = np.array([scores[0]] * math.ceil((w - 1) / 2) + list(scores) + [scores[-1]] * ((w - 1) // 2))
            return scores

    return PrunedPCA


class _Predicting:
    """KMeansAD's ``fit`` / ``predict`` under the ``fit`` / ``decision_function`` names."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def fit(self, X: np.ndarray) -> _Predicting:
        self.model.fit(X)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)


def estimator(name: str, hp: dict[str, Any], train: np.ndarray, extra: dict[str, Any] | None = None,
              window: int | None = None) -> Any:
    """The unfitted TSB-AD model object exactly as ``run_<name>`` builds it, for the ``train`` models.

    ``train`` (``T x F``) gives the number of features and, for ``periodicity``, the window (unless
    ``window`` fixes it); ``extra``: constructor arguments ``run_<name>`` leaves at their defaults
    (by :attr:`Model.extra`'s argument names).
    """
    m = _load(MODELS[name].module)
    feats = train.shape[1]
    kw = {argument: value for _, argument, value in MODELS[name].extra}
    kw.update(extra or {})

    def period() -> int:
        from TSB_AD.utils.slidingWindows import find_length_rank

        return int(find_length_rank(train, rank=hp["periodicity"])) if window is None else window

    builders: dict[str, Callable[[], Any]] = {
        "PCA": lambda: _pruned_pca()(slidingWindow=hp["slidingWindow"], n_components=hp["n_components"]),
        "Sub_PCA": lambda: _pruned_pca()(slidingWindow=period(), n_components=hp["n_components"]),
        "HBOS": lambda: m.HBOS(slidingWindow=hp["slidingWindow"], n_bins=hp["n_bins"], tol=hp["tol"]),
        "Sub_HBOS": lambda: m.HBOS(slidingWindow=period(), n_bins=hp["n_bins"], tol=hp["tol"]),
        "KMeansAD": lambda: _Predicting(m.KMeansAD(k=hp["n_clusters"], window_size=hp["window_size"], stride=1)),
        "KMeansAD_U": lambda: _Predicting(m.KMeansAD(k=hp["n_clusters"], window_size=period(), stride=1)),
        "MCD": lambda: m.MCD(slidingWindow=hp["slidingWindow"], support_fraction=hp["support_fraction"]),
        "Sub_MCD": lambda: m.MCD(slidingWindow=period(), support_fraction=hp["support_fraction"]),
        "OCSVM": lambda: m.OCSVM(slidingWindow=hp["slidingWindow"], kernel=hp["kernel"], nu=hp["nu"]),
        "Sub_OCSVM": lambda: m.OCSVM(slidingWindow=period(), kernel=hp["kernel"], nu=hp["nu"]),
        "AutoEncoder": lambda: m.AutoEncoder(slidingWindow=hp["window_size"], hidden_neurons=hp["hidden_neurons"],
                                             batch_size=128, **kw),
        "CNN": lambda: m.CNN(window_size=hp["window_size"], num_channel=hp["num_channel"], feats=feats, lr=hp["lr"],
                             batch_size=128, **kw),
        "LSTMAD": lambda: m.LSTMAD(window_size=hp["window_size"], pred_len=1, lr=hp["lr"], feats=feats, batch_size=128,
                                   **kw),
        "TranAD": lambda: m.TranAD(win_size=hp["win_size"], feats=feats, lr=hp["lr"], **kw),
        "USAD": lambda: m.USAD(win_size=hp["win_size"], feats=feats, lr=hp["lr"], **kw),
        "OmniAnomaly": lambda: m.OmniAnomaly(win_size=hp["win_size"], feats=feats, lr=hp["lr"], **kw),
        "Donut": lambda: m.Donut(win_size=hp["win_size"], input_c=feats, lr=hp["lr"], batch_size=hp["batch_size"],
                                 **kw),
        "TimesNet": lambda: m.TimesNet(win_size=hp["win_size"], enc_in=feats, lr=hp["lr"], **kw),
        "FITS": lambda: m.FITS(win_size=hp["win_size"], input_c=feats, lr=hp["lr"], batch_size=128, **kw),
    }
    return builders[name]()


def run_model(name: str, hp: dict[str, Any], data: np.ndarray, init: np.ndarray | None = None,
              window: int | None = None) -> np.ndarray:
    """TSB-AD's own ``run_<name>`` (the ``test`` and ``online`` models), exceptions not swallowed
    (``run_Unsupervise_AD`` prints and returns them). ``init``: the online models' starting part;
    ``window``: the window instead of the ACF period ``run_<name>`` derives from ``periodicity``."""
    _load(MODELS[name].module)
    from TSB_AD import model_wrapper

    run = getattr(model_wrapper, f"run_{name}")
    with _fixed_window(model_wrapper, window):
        out = run(data, **hp) if init is None else run(init, data, **hp)
    return np.asarray(out, dtype=np.float64).ravel()


@contextlib.contextmanager
def _fixed_window(model_wrapper: types.ModuleType, window: int | None) -> Iterator[None]:
    """``run_<Model>`` looks its window up with ``find_length_rank``; a fixed ``window`` stands in for it."""
    if window is None:
        yield
        return
    real = model_wrapper.find_length_rank
    model_wrapper.find_length_rank = lambda data, rank=1: window
    try:
        yield
    finally:
        model_wrapper.find_length_rank = real


@contextlib.contextmanager
def tsbad_call(seed: int) -> Iterator[None]:
    """Seeded (torch, NumPy, ``random``) and quiet: TSB-AD prints progress bars and notes on every call."""
    from faultlab.detectors.torchkit import seeded

    sink = io.StringIO()
    with seeded(seed), warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        random.seed(seed)
        yield


# ---- the detectors ---------------------------------------------------------------------------
class TSBADCommon(Params):
    """What every ``tsbad:*`` detector takes besides ``run_<Model>``'s hyper-parameters."""

    scaler: Literal["robust", "minmax", "none"] = Field("robust", description="scaling with training statistics")
    threshold_quantile: float = Field(0.99, gt=0, le=1, description="quantile of fault-free training scores")


class TSBADSeriesCommon(TSBADCommon):
    max_series: int | None = Field(
        None, ge=1, description="at most this many series, the largest training variance first (None: all)"
    )


class TSBADDetector(Detector):
    """Base of the ``tsbad:*`` detectors: scale, then TSB-AD's model on the matrix or on each series."""

    family: ClassVar[str] = "tsbad"
    tsbad_model: ClassVar[str] = ""
    multivariate: ClassVar[bool] = True
    fitted_on: ClassVar[str] = "train"
    #: True when the model is fitted on (or adapts to) the test data it scores: compare like with like.
    sees_test_data: ClassVar[bool] = False
    params: Any

    train_values_: np.ndarray
    scaler_: Scaler | None
    series_: np.ndarray  # the columns the model runs on (per-series models; all for the matrix)
    models_: list[Any]  # fitted TSB-AD objects (``train`` models): one, or one per series
    train_raw_: np.ndarray  # TSB-AD's scores of the training part, one column per model run
    skipped_series_: dict[str, str]  # per-series models: series the model failed on in training -> why
    scoring_failures_: dict[str, str]  # per-series models: series it failed on in the last scoring -> why
    normaliser_: Scaler | None  # per-series models: each series' training score median and MAD

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        require_tsbad(f"detector {self.name!r}")
        super().__init__(seed=seed, **params)

    @property
    def spec(self) -> Model:
        return MODELS[self.tsbad_model]

    def hp(self) -> dict[str, Any]:
        """``run_<Model>``'s keyword arguments from the parameters."""
        own = {*TSBADSeriesCommon.model_fields, "window", *(name for name, _, _ in self.spec.extra)}
        return {k: v for k, v in self.params.model_dump().items() if k not in own}

    def extra(self) -> dict[str, Any]:
        """The constructor arguments ``run_<Model>`` fixes, from the parameters (``epochs``, ...)."""
        return {argument: getattr(self.params, name) for name, argument, _ in self.spec.extra}

    def required_train_steps(self) -> int:
        hp = self.hp()
        window = int(hp.get("slidingWindow") or hp.get("window_size") or hp.get("win_size") or 1)
        if self.spec.validates:  # TSB-AD validates on the last 20 % of the steps; a window must fit there
            n = window
            while n - int(0.8 * n) < window:
                n += 1
            window = n
        return max(int(self.min_train_steps), window)

    # ---- fit / score ----------------------------------------------------------------------
    def _fit(self, train: Dataset) -> np.ndarray:
        return self._fit_values(self.matrix(train), repr(train.name))

    def _fit_values(self, values: np.ndarray, where: str) -> np.ndarray:
        self.train_values_ = values.astype(np.float64)
        self.scaler_ = None if self.params.scaler == "none" else fit_scaler(self.params.scaler, values)
        scaled = self._scaled(values)
        self.series_ = self._choose_series(scaled, where)
        self.models_, self.skipped_series_, self.scoring_failures_ = [], {}, {}
        raw, kept = [], []
        for i, part in enumerate(self._parts(scaled)):
            label = self._where(where, i)
            try:
                model, scores = self._fit_part(part, label)
                scores = self._steps(scores, len(values), label)
                if not self.multivariate and not np.isfinite(scores).all():  # the normaliser needs numbers
                    raise BadInput(f"detector {self.name!r}: TSB-AD's {self.tsbad_model} gave non-finite scores on {label}")
            except BadInput as exc:
                if self.multivariate:
                    raise
                self.skipped_series_[self.columns_[self.series_[i]]] = str(exc)
                continue
            self.models_.append(model)
            raw.append(scores)
            kept.append(i)
        if not raw:
            first = next(iter(self.skipped_series_.values()))
            raise BadInput(f"detector {self.name!r}: TSB-AD's {self.tsbad_model} failed on every series of {where}; "
                           f"the first: {first}")
        self.series_ = self.series_[kept]
        self.train_raw_ = np.column_stack(raw)
        self.normaliser_ = None if self.multivariate else fit_robust(self.train_raw_)
        return self._combined(self.train_raw_)

    def _fit_part(self, part: np.ndarray, label: str) -> tuple[Any, np.ndarray]:
        """The fitted model (``train`` models; else None) and its scores of the training ``part``."""
        if self.fitted_on == "train":
            model = self._call(lambda: self._fitted(part), label)
            return model, self._call(lambda: model.decision_function(part), label)
        if self.fitted_on == "test":
            return None, self._call(lambda: run_model(self.tsbad_model, self.hp(), part, window=self._window()), label)
        return None, self._call(lambda: self._online_train(part), label)

    def _score(self, data: Dataset) -> np.ndarray:
        return self._combined(self._raw(data))

    def raw_scores(self, data: Dataset) -> np.ndarray:
        """TSB-AD's own scores of ``data``, one column per model run (``T x 1`` for the matrix, ``T x k``
        for the ``k`` series in ``series_``), before the per-series normalisation; NaN in the column of
        a series the model failed on (``scoring_failures_``)."""
        self._check_fitted()
        return self._raw(self.align(data))

    def _combined(self, raw: np.ndarray) -> np.ndarray:
        """One score per step: the matrix model's own, or the largest normalised per-series score
        (a series without a score, NaN, has no say; a step no series scores gets 0)."""
        if self.normaliser_ is None:
            return raw[:, 0]
        z = self.normaliser_.transform(raw)
        best = np.where(np.isnan(z), -np.inf, z).max(axis=1)
        return np.where(best == -np.inf, 0.0, best)

    def _raw(self, data: Dataset) -> np.ndarray:
        values = self.matrix(data)
        parts = self._parts(self._scaled(values))
        before = self._parts(self._scaled(self.train_values_)) if self.fitted_on == "online" else parts
        self.scoring_failures_ = {}
        raw = []
        for i, (part, start) in enumerate(zip(parts, before)):
            label = self._where(repr(data.name), i)
            try:
                scores = self._steps(self._score_part(i, part, start, label), len(values), label)
            except BadInput as exc:
                if self.multivariate:
                    raise
                self.scoring_failures_[self.columns_[self.series_[i]]] = str(exc)
                scores = np.full(len(values), np.nan)
            raw.append(scores)
        return np.column_stack(raw)

    def _score_part(self, i: int, part: np.ndarray, start: np.ndarray, label: str) -> np.ndarray:
        """The ``i``-th model run's scores of ``part`` (``start``: the training part, for the online models)."""
        if self.fitted_on == "train":
            return self._call(lambda: self.models_[i].decision_function(part), label)
        if self.fitted_on == "test":
            return self._call(lambda: run_model(self.tsbad_model, self.hp(), part, window=self._window()), label)
        # TSB-AD's online protocol: the model is given train + test and starts on train
        joined = np.vstack([start, part])
        scores = self._call(lambda: run_model(self.tsbad_model, self.hp(), joined, start, self._window()), label)
        return self._steps(scores, len(joined), label)[len(start):]

    @property
    def info_(self) -> dict[str, float]:
        """What the board prints beside the scores (info rows): whether the model saw the test data
        (1: fitted on it, or adapting to it online) and, per-series models, on how many series it ran,
        how many it failed on in training (left out) and in the last scoring (no say there)."""
        info = {"sees_test_data": float(self.sees_test_data)}
        if not self.multivariate and hasattr(self, "series_"):
            info["series_used"] = float(len(self.series_))
            info["series_skipped"] = float(len(getattr(self, "skipped_series_", {})))
            info["series_failed_scoring"] = float(len(getattr(self, "scoring_failures_", {})))
        return info

    # ---- helpers --------------------------------------------------------------------------
    def _scaled(self, values: np.ndarray) -> np.ndarray:
        """Scaled with training statistics, C-ordered as a TSB-AD user's array (float sums follow the layout)."""
        values = np.asarray(values, dtype=np.float64)
        return np.ascontiguousarray(values if self.scaler_ is None else self.scaler_.transform(values))

    def _choose_series(self, scaled: np.ndarray, where: str) -> np.ndarray:
        if self.multivariate:
            return np.arange(scaled.shape[1], dtype=np.int64)
        varying = np.flatnonzero(np.ptp(scaled, axis=0) > _TINY)
        if len(varying) == 0:
            raise BadInput(f"detector {self.name!r}: no series of {where} varies over the training part; "
                           f"a per-series model has nothing to fit")
        cap = self.params.max_series
        if cap is not None and len(varying) > cap:
            order = np.argsort(-scaled[:, varying].var(axis=0), kind="stable")
            varying = np.sort(varying[order[:cap]])
        return varying.astype(np.int64)

    def _parts(self, scaled: np.ndarray) -> list[np.ndarray]:
        """What the model is given: the matrix, or each chosen series as a ``T x 1`` column."""
        return [scaled] if self.multivariate else [np.ascontiguousarray(scaled[:, [j]]) for j in self.series_]

    def _window(self) -> int | None:
        return getattr(self.params, "window", None)

    def _fitted(self, part: np.ndarray) -> Any:
        model = estimator(self.tsbad_model, self.hp(), part, self.extra(), self._window())
        model.fit(part)
        return model

    def _online_train(self, part: np.ndarray) -> np.ndarray:
        """The training part's scores from the model started on its first ``online_init`` share; the
        steps it does not score (a warm-up) take the scored steps' scores, repeated."""
        start = max(1, int(len(part) * self.spec.online_init))
        scores = self._steps(run_model(self.tsbad_model, self.hp(), part, part[:start], self._window()),
                             len(part), "the training part")
        return scores if start >= len(part) else np.concatenate([np.resize(scores[start:], start), scores[start:]])

    def _where(self, where: str, i: int) -> str:
        return where if self.multivariate else f"{where}, series {self.columns_[self.series_[i]]!r}"

    def _call(self, fn: Callable[[], Any], where: str) -> Any:
        """``fn()`` seeded and quiet; TSB-AD's failures become BadInput naming the model and the data."""
        try:
            with tsbad_call(self.seed):
                return fn()
        except BadInput:
            raise
        except Exception as exc:  # whatever the library raises, it is this model not answering on this data
            raise BadInput(f"detector {self.name!r}: TSB-AD's {self.tsbad_model} failed on {where}: "
                           f"{type(exc).__name__}: {exc}") from exc

    def _steps(self, scores: Any, n: int, where: str) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64).ravel()
        if scores.shape[0] != n:
            raise BadInput(f"detector {self.name!r}: TSB-AD's {self.tsbad_model} gave {scores.shape[0]} scores for "
                           f"the {n} steps of {where}")
        return scores

    def _state(self) -> dict[str, Any]:
        return {"train_values_": self.train_values_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._fit_values(np.asarray(state["train_values_"], dtype=np.float64), "the saved model's training data")


def _fields(name: str) -> dict[str, tuple[Any, Any]]:
    hp = default_hp(name)
    unknown = sorted(set(hp) - set(_HP_TYPES))
    if unknown:
        raise KeyError(f"run_{name} takes hyper-parameter(s) {', '.join(unknown)} this adapter does not know")
    fields = {k: (_HP_TYPES[k][0], Field(v, **_HP_TYPES[k][1])) for k, v in hp.items()}
    if "periodicity" in hp:
        fields["window"] = (int | None, Field(None, ge=2, le=2000,
                                              description="this window instead of the ACF period (None: TSB-AD's rule)"))
    for param, argument, value in MODELS[name].extra:
        fields[param] = (int, Field(value, ge=1, le=100_000, description=f"TSB-AD's {argument} (run_{name} fixes it)"))
    return fields


def _ci_params(name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Seconds, not minutes: small windows, few trees, epochs and samples, one series."""
    small = {"slidingWindow": 10, "window_size": 10, "win_size": 10, "n_estimators": 10, "n_trees": 10,
             "max_iter": 5, "epochs": 1, "n_clusters": 4, "n_neighbors": 10, "mc_samples": 4, "cut_freq": 1}
    out = {k: min(v, fields[k][1].default) for k, v in small.items() if k in fields and fields[k][1].default}
    if not MODELS[name].multivariate:
        out["max_series"] = 1
        if "periodicity" in fields:
            out["window"] = 10
    return {**out, **dict(MODELS[name].ci)}


def describe(name: str) -> str:
    """The model's one-line description: what it gets and what it is fitted on."""
    spec = MODELS[name]
    shape = "the metric matrix" if spec.multivariate else "each series (univariate; max over normalised series)"
    fitted = {"train": "fitted on the fault-free train part",
              "test": "sees_test_data: fitted on the test series it scores (TSB-AD's unsupervised protocol)",
              "online": "sees_test_data: starts on the train part, then adapts to the test part step by step"}
    return f"TSB-AD's {name} on {shape}; {fitted[spec.fitted_on]}."


def _make(name: str) -> type[TSBADDetector]:
    spec = MODELS[name]
    fields = _fields(name)
    base = TSBADCommon if spec.multivariate else TSBADSeriesCommon
    params = create_model(f"TSBAD{name}Params", __base__=base, **fields)
    attrs = {"Params": params, "tsbad_model": name, "multivariate": spec.multivariate, "fitted_on": spec.fitted_on,
             "sees_test_data": spec.fitted_on != "train", "ci_params": _ci_params(name, fields), "__doc__": describe(name)}
    return type(f"TSBAD{name}", (TSBADDetector,), attrs)


def _missing(name: str) -> str | None:
    """Why ``name`` cannot run here, or None."""
    if name in NOT_ADAPTED:
        return NOT_ADAPTED[name]
    if not tsbad_available():
        return f"needs TSB-AD, which is not installed: {INSTALL_HINT}"
    absent = [m for m in (*_CORE, *MODELS[name].needs) if importlib.util.find_spec(m) is None]
    if absent:
        return f"needs {', '.join(absent)}, not installed: pip install 'faultlab[tsbad]'"
    return None


#: ``tsbad:<Model>`` -> why it is not registered here (``faultlab list detectors --all`` prints these).
UNAVAILABLE_DETECTORS: dict[str, str] = {}

for _name in [*MODELS, *NOT_ADAPTED]:
    _why = _missing(_name)
    if _why is None:
        try:
            DETECTORS.add(f"tsbad:{_name}", _make(_name))
        except (KeyError, AttributeError, TypeError) as _exc:  # a TSB-AD version whose run_<Model> differs
            UNAVAILABLE_DETECTORS[f"tsbad:{_name}"] = f"TSB-AD's run_{_name} is not what this adapter knows: {_exc}"
    else:
        UNAVAILABLE_DETECTORS[f"tsbad:{_name}"] = _why
