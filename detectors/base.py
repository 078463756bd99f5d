"""The detector and classifier interfaces, modelled on PyOD's ``BaseDetector``.

A :class:`Detector` is built from scenario parameters, fitted on fault-free data, and then
gives one score per time step (higher = more anomalous) and 0/1 predictions against its own
``threshold_``, learned at fit time. A :class:`Localizer` also ranks likely root causes for
each anomalous segment. A :class:`Classifier` names the fault type of a window of metrics.

Subclasses implement only what differs (``_fit``, ``_score``, ``_state``/``_set_state``);
the base classes own parameter validation, column alignment, thresholds and persistence, so
every method behaves the same to the runner, the bench and the tests.

Every detector shares two contracts on the data it sees:

- **Series policy** (``series_policy``, a constructor argument every detector accepts):
  series the detector was fitted on but that are missing at scoring time are, under ``"fill"``
  (the default), filled with their training median (flagged in the mask), and under
  ``"strict"`` a BadInput; series new at scoring time are ignored. Each :meth:`Detector.align`
  records what it did in ``alignment_`` (``{"policy", "missing", "new", "missing_columns",
  "new_columns"}``) so the evaluation can report it. Real monitoring loses and gains series all
  the time (restarts, scaling, renamed pods).
- **Minimum training length** (``min_train_steps``, a class attribute, raised to the window for
  windowed methods): :meth:`Detector.fit` refuses shorter training data with a BadInput naming
  the dataset and its length, instead of fitting something meaningless.
- **Drift** (``drift``, ``drift_median_s``: constructor arguments every detector accepts):
  ``drift="trailing_median"`` subtracts from every gauge (``kind`` from the column table) the
  median of its previous ``drift_median_s`` seconds before the method sees the data, at fit and
  at scoring alike (:class:`~faultlab.detectors.preprocess.DriftBaseline`, the baseline
  ``zscore`` follows: fitted on training data only, causal). ``"none"`` (default) leaves the
  method's own preprocessing alone. ``--param <method>.drift=trailing_median`` sets it on the
  command line.

Deep methods keep their training record in ``history_`` (a
:class:`~faultlab.detectors.torchkit.TrainHistory`, or one per network); ``training_`` gives it
as ``{network: TrainHistory}`` for the evaluation's training rows (epochs run, best epoch, fit
time, loss curves). A method that chooses settings at fit may also report them as ``info_``
(``{name: number}``, e.g. attae's ``beta``), shown beside the training rows.

Window-based detectors return one score per time step too: a window's score goes to the
window's last step and the first ``size-1`` steps are padded (see
:func:`faultlab.detectors.preprocess.window_scores_to_steps`).

Live detection (``faultlab run`` with ``evaluate.live``, ``faultlab watch``) scores one new step
at a time: :meth:`Detector.score_latest` scores a rolling buffer of the last
:attr:`Detector.history_steps` steps and equals the offline score of that step, using no later
step (``tests/unit/test_live_no_lookahead.py`` proves it); :meth:`Detector.suspects_latest`
names an alarm's top suspects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.detectors.params import Params, build_params, check_seed
from faultlab.detectors.persist import read_model, write_model
from faultlab.detectors.preprocess import DRIFT_CHOICES, DriftBaseline
from faultlab.detectors.registry import CLASSIFIERS, DETECTORS
from faultlab.errors import BadInput
from faultlab.flags import runs_of as flag_segments
from faultlab.registry import Registry


@dataclass(frozen=True)
class RootCauseRanking:
    """Ranked suspects for one anomalous segment (steps ``start_index`` .. ``end_index - 1``).

    ``services`` and ``metrics`` are ``(name, score)`` pairs, most likely cause first; scores
    are the method's own (higher = more suspicious). ``fault_id`` is set when the segment was
    given from the labels rather than found by the detector.
    """

    start_index: int
    end_index: int
    start: str
    end: str
    services: list[tuple[str, float]]
    metrics: list[tuple[str, float]] = field(default_factory=list)
    fault_id: str = ""

    def top_services(self, k: int) -> list[str]:
        return [name for name, _ in self.services[:k]]


class _Method(ABC):
    """What detectors and classifiers share: a name, typed params, a seed, a model folder."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params
    registry: ClassVar[Registry[Any]]
    #: Parameters that train the method in seconds (CI gates, contract tests); defaults are
    #: the paper's configuration, used for the recorded leaderboards.
    ci_params: ClassVar[dict[str, Any]] = {}
    #: Where the method comes from, for ``bench --detectors baseline|seed|pyod|tsbad|all`` and the
    #: README's list: ``baseline`` (classic reference methods of this project), ``seed`` (the seed
    #: papers' methods), ``pyod`` / ``tsbad`` (adapters to those libraries), ``floor``.
    family: ClassVar[str] = "baseline"

    #: Parameters every method of this kind takes besides its ``Params`` (named in errors).
    shared_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        owner = f"{self.kind} {self.name!r}"
        self.seed = check_seed(seed, owner)
        self.params = build_params(type(self).Params, params, owner, self.shared_params)

    def get_params(self) -> dict[str, Any]:
        return self.params.model_dump(mode="json")

    @property
    def training_(self) -> dict[str, Any]:
        """How a fitted deep model trained: ``{network: TrainHistory}``, empty for other methods.

        Read from ``history_``, where every torch method keeps what
        :func:`~faultlab.detectors.torchkit.fit_module` returned: one history (``{"all": ...}``)
        or a dict of them (``lstm_ae``: one per metric group). The evaluation turns it into the
        board's training rows (epochs run, best epoch, fit time, loss curves).
        """
        history = getattr(self, "history_", None)
        if isinstance(history, dict):
            return {str(k): v for k, v in history.items() if hasattr(v, "train_loss")}
        return {"all": history} if hasattr(history, "train_loss") else {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}(seed={self.seed}{', ' if args else ''}{args})"

    # ---- persistence --------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted model to folder ``path`` (JSON + npz, no pickle)."""
        self._check_fitted()
        header = {"kind": self.kind, "name": self.name, "seed": self.seed, "params": self.get_params()}
        return write_model(path, header, {**self._base_state(), **self._state()})

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a folder written by :meth:`save`; ``Detector.load`` finds the class by name."""
        header, state = read_model(path)
        if header.get("kind") != cls.kind:
            raise BadInput(f"{path}: holds a {header.get('kind')!r}, not a {cls.kind}")
        klass = cls.registry.get(header["name"]) if not cls.name else cls
        if klass.name != header["name"]:
            raise BadInput(f"{path}: holds {cls.kind} {header['name']!r}, not {klass.name!r}")
        obj = klass(seed=header["seed"], **header["params"])
        obj._set_base_state(state)
        obj._set_state(state)
        return obj

    def _state(self) -> dict[str, Any]:
        """Method-specific fitted state: arrays and JSON-able scalars (override as needed)."""
        return {}

    def _set_state(self, state: dict[str, Any]) -> None:  # noqa: B027 -- optional hook, a no-op by default
        """Restore what :meth:`_state` returned (override as needed)."""

    @abstractmethod
    def _base_state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _set_base_state(self, state: dict[str, Any]) -> None: ...

    @abstractmethod
    def _check_fitted(self) -> None: ...


SERIES_POLICIES = ("fill", "strict")
#: Default window of the ``drift`` option's trailing median, seconds (as ``zscore``'s own baseline;
#: named apart from ``zscore``'s and ``static_threshold``'s own ``drift_window_s``).
DRIFT_MEDIAN_S = 600.0
#: Set in a dataset's meta once the drift baseline is removed, so a second ``align`` leaves it.
DRIFT_REMOVED = "drift_removed"


class Detector(_Method):
    """Fit on fault-free data, score every time step, predict with the learned ``threshold_``.

    Fitted attributes: ``columns_`` (the metric columns, in order), ``column_table_`` (their
    service, metric, group, kind and unit from the dataset's column table), ``fill_values_``
    (training medians, for missing series), ``train_scores_`` and ``threshold_``. The default
    threshold is a quantile of the training scores (``contamination`` if the method has it and
    it is set, else ``threshold_quantile``, else 0.99); methods with a principled fixed
    threshold override :meth:`_fit_threshold`. After each :meth:`score` (or :meth:`align`),
    ``alignment_`` says how many series were missing (filled) or new (ignored).
    """

    kind = "detector"
    registry = DETECTORS
    #: Fewer fault-free steps than this are refused at fit (windowed methods: at least a window).
    min_train_steps: ClassVar[int] = 2
    shared_params = ("series_policy", "drift", "drift_median_s")

    columns_: list[str]
    column_table_: list[dict[str, str]]
    fill_values_: np.ndarray
    train_scores_: np.ndarray
    threshold_: float
    alignment_: dict[str, Any]
    drift_: DriftBaseline | None = None  # the drift option's baseline, fitted (None: drift="none")

    def __init__(self, *, seed: int = 0, series_policy: str = "fill", drift: str = "none",
                 drift_median_s: float = DRIFT_MEDIAN_S, **params: Any) -> None:
        if series_policy not in SERIES_POLICIES:
            raise BadInput(
                f"detector {self.name!r}: parameter 'series_policy' is {series_policy!r}; valid: {', '.join(SERIES_POLICIES)}"
            )
        if drift not in DRIFT_CHOICES:
            raise BadInput(f"detector {self.name!r}: parameter 'drift' is {drift!r}; valid: {', '.join(DRIFT_CHOICES)}")
        if isinstance(drift_median_s, bool) or not isinstance(drift_median_s, (int, float)) or not drift_median_s > 0:
            raise BadInput(f"detector {self.name!r}: parameter 'drift_median_s' must be a number of seconds > 0, got {drift_median_s!r}")
        self.series_policy = series_policy
        self.drift, self.drift_median_s = drift, float(drift_median_s)
        super().__init__(seed=seed, **params)

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        if self.series_policy != "fill":
            params["series_policy"] = self.series_policy
        if self.drift != "none":
            params["drift"] = self.drift
        if self.drift_median_s != DRIFT_MEDIAN_S:
            params["drift_median_s"] = self.drift_median_s
        return params

    def required_train_steps(self) -> int:
        """``min_train_steps``, raised to the method's window (``window`` or ``window_size``) if any."""
        window = getattr(self.params, "window", None) or getattr(self.params, "window_size", None) or 1
        return max(int(self.min_train_steps), int(window))

    def fit(self, train: Dataset) -> Self:
        if len(train.metrics) == 0 or train.metrics.shape[1] == 0:
            raise BadInput(f"detector {self.name!r}: training data {train.name!r} is empty")
        needed = self.required_train_steps()
        if len(train.metrics) < needed:
            raise BadInput(
                f"detector {self.name!r}: training data of {train.name!r} has {len(train.metrics)} fault-free "
                f"step(s); it needs at least {needed}"
            )
        self.columns_ = [str(c) for c in train.metrics.columns]
        table = train.columns
        self.column_table_ = [
            {k: str(v) for k, v in row.items()} for row in table[["name", "service", "metric", "group", "kind", "unit"]].to_dict("records")
        ]
        self.fill_values_ = np.median(self.matrix(train), axis=0)
        self.alignment_ = {"policy": self.series_policy, "missing": 0, "new": 0, "missing_columns": [], "new_columns": []}
        self.drift_ = (DriftBaseline.fit(self.matrix(train), self.gauges_, self.drift_median_s, train.scrape_interval_s)
                       if self.drift != "none" else None)
        train = self._without_drift(train)
        fitted = self._fit(train)
        self.train_scores_ = self._checked_scores(self._score(train) if fitted is None else fitted, train)
        self.threshold_ = float(self._fit_threshold(self.train_scores_))
        return self

    def score(self, data: Dataset) -> np.ndarray:
        """One float per time step of ``data`` (higher = more anomalous)."""
        self._check_fitted()
        aligned = self.align(data)
        return self._checked_scores(self._score(aligned), aligned)

    def predict(self, data: Dataset) -> np.ndarray:
        """0/1 per time step: 1 where the score exceeds ``threshold_``."""
        return (self.score(data) > self.threshold_).astype(np.int8)

    def align(self, data: Dataset) -> Dataset:
        """``data`` with exactly the fitted columns, in the fitted order, under ``series_policy``.

        Missing columns: ``fill`` puts the training median there (mask True), ``strict`` raises
        BadInput naming them. New columns are dropped. ``alignment_`` records the counts. With
        the ``drift`` option on, the gauges' trailing median is removed too (once per dataset).
        """
        present = [str(c) for c in data.metrics.columns]
        have = set(present)
        fitted = set(self.columns_)
        missing = [c for c in self.columns_ if c not in have]
        new = [c for c in present if c not in fitted]
        self.alignment_ = {
            "policy": self.series_policy,
            "missing": len(missing),
            "new": len(new),
            "missing_columns": missing[:20],
            "new_columns": new[:20],
        }
        if missing and self.series_policy == "strict":
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise BadInput(f"dataset {data.name!r} lacks {len(missing)} column(s) detector {self.name!r} was fitted on: {shown}")
        if present == self.columns_:
            return self._without_drift(data)
        metrics = data.metrics.reindex(columns=self.columns_)
        base = data.mask if data.mask is not None else pd.DataFrame(False, index=data.metrics.index, columns=present)
        mask = base.reindex(columns=self.columns_, fill_value=True)  # filled series are masked
        if missing:
            fill = dict(zip(self.columns_, self.fill_values_.tolist()))
            metrics = metrics.fillna({column: fill[column] for column in missing})
        meta = {**data.meta, "columns": self._table()}
        return self._without_drift(replace(data, metrics=metrics, mask=mask, meta=meta))

    def _without_drift(self, data: Dataset) -> Dataset:
        """``data`` (the fitted columns) minus the drift option's baseline on its gauges; as is when
        the option is off or the baseline is already removed (``meta[DRIFT_REMOVED]``)."""
        if self.drift_ is None or data.meta.get(DRIFT_REMOVED):
            return data
        values = self.drift_.remove(self.matrix(data))
        metrics = pd.DataFrame(values, index=data.metrics.index, columns=data.metrics.columns)
        return replace(data, metrics=metrics, meta={**data.meta, DRIFT_REMOVED: self.drift})

    def _table(self) -> list[dict[str, str]]:
        """The fitted column table (legacy models without one: derived from the names)."""
        if getattr(self, "column_table_", None):
            return self.column_table_
        from faultlab.dataset import legacy_column_table

        return legacy_column_table(self.columns_)

    @property
    def column_services_(self) -> list[str]:
        """The service of each fitted column, from the training data's column table."""
        return [row["service"] for row in self._table()]

    @property
    def column_metrics_(self) -> list[str]:
        """The metric of each fitted column, from the training data's column table."""
        return [row["metric"] for row in self._table()]

    @property
    def gauges_(self) -> np.ndarray:
        """True for each fitted column that is a gauge (a level, not a rate of a counter)."""
        return np.array([row.get("kind", "gauge") == "gauge" for row in self._table()], dtype=bool)

    @staticmethod
    def matrix(data: Dataset) -> np.ndarray:
        """``T x F`` float64 values (NaN -> 0; datasets are already gap-filled)."""
        return np.nan_to_num(data.metrics.to_numpy(dtype=np.float64, na_value=0.0))

    # ---- streaming (live) scoring ---------------------------------------------------------
    # A live scorer keeps a rolling buffer of the last steps of a stream and asks for the score
    # of the newest one. These three methods make that exact and causal for every detector: the
    # score of a buffer's last step equals ``score(stream)[-1]``, and it uses no later step.

    @property
    def warmup_steps(self) -> int:
        """Steps a stream needs before its last step has a score that uses no later data.

        Offline, window methods give the steps before their first full window that window's
        score (a look-ahead over at most ``window - 1`` steps); live there is no such window yet,
        so a live scorer waits this long (it is primed with history, so in practice it never does).
        Read from the conventions the detectors share: ``window``, ``window_size``, the longest of
        ``scales``, or a graph detector's ``_score_window``; 1 for point detectors.
        """
        p = self.params
        window = getattr(self, "_score_window", None) or getattr(p, "window", None) or getattr(p, "window_size", None) or 1
        scales = getattr(p, "scales", None)
        return max(int(window), max((int(s) for s in scales), default=1) if scales else 1)

    @property
    def history_steps(self) -> int:
        """Trailing steps that fully determine the last step's score: the buffer a live scorer keeps.

        Scoring the last ``history_steps`` steps of a stream gives its last step the score that
        scoring the whole stream gives it (a stream still shorter than that is scored whole).
        1 for point detectors, the window for window models, and for methods that follow a
        baseline the steps behind it: a rolling median before scoring (``smooth_steps``), a
        drifting gauge's baseline (``drift_steps_``, set at fit), an adaptive threshold's past
        errors (``adaptive_window``), the ``drift`` option's window. A method that remembers anything
        else overrides this.
        """
        self._check_fitted()
        smooth = int(getattr(self.params, "smooth_steps", 1) or 1)
        drift = int(getattr(self, "drift_steps_", 0) or 0)
        adaptive = int(getattr(self.params, "adaptive_window", 0) or 0)
        option = self.drift_.steps if self.drift_ is not None else 0
        return self.warmup_steps + (smooth - 1) + drift + adaptive + option

    def score_latest(self, buffer: Dataset) -> float:
        """The score of ``buffer``'s last step, computed from that step and the ones before it.

        ``buffer`` holds the newest steps of a stream: at least :attr:`history_steps` of them, or
        the whole stream while it is shorter. The result equals ``score(stream)[-1]``; NaN while
        the stream is shorter than :attr:`warmup_steps`. The default scores the buffer's last
        ``history_steps`` steps and keeps the last score; a method with a cheaper incremental
        form overrides it (``zscore`` computes only the last step).
        """
        self._check_fitted()
        n = len(buffer.metrics)
        if n < self.warmup_steps:
            return float("nan")
        return float(self.score(last_steps(buffer, self.history_steps))[-1])

    def suspects_latest(self, buffer: Dataset, steps: int = 1, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most suspect root-cause services over the last ``steps`` steps of ``buffer``.

        What a live alarm names: the detector's own ranking (:meth:`Localizer.localize`) on the
        alarm's steps, among the buffer's candidates (services a fault can target). Empty for a
        detector that does not localize, or before :attr:`warmup_steps`. Steps are capped at the
        ones with an exact, causal score in the buffer.
        """
        if not isinstance(self, Localizer):
            return []
        n = len(buffer.metrics)
        if n < self.warmup_steps:
            return []
        steps = max(1, min(int(steps), n - self.warmup_steps + 1))
        tail = last_steps(buffer, self.history_steps + steps - 1)
        m = len(tail.metrics)
        ranking = self.localize(tail, [(m - steps, m)])[0]
        candidates = set(tail.candidates)
        ranked = [(s, float(v)) for s, v in ranking.services if not candidates or s in candidates]
        return ranked[:k]

    # ---- what subclasses implement ------------------------------------------------------
    @abstractmethod
    def _fit(self, train: Dataset) -> np.ndarray | None:
        """Learn from fault-free ``train`` (its columns are ``self.columns_``).

        A method that scored ``train`` anyway while fitting (a network's reconstruction errors)
        returns those scores, exactly what ``_score(train)`` would give, to save a second pass.
        """

    @abstractmethod
    def _score(self, data: Dataset) -> np.ndarray:
        """One score per step of ``data`` (already aligned to ``self.columns_``)."""

    def _fit_threshold(self, train_scores: np.ndarray) -> float:
        contamination = getattr(self.params, "contamination", None)
        q = 1.0 - contamination if contamination is not None else getattr(self.params, "threshold_quantile", 0.99)
        return float(np.quantile(train_scores, q))

    # ---- plumbing -----------------------------------------------------------------------
    def _checked_scores(self, scores: np.ndarray, data: Dataset) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape[0] != len(data.metrics):
            raise RuntimeError(f"detector {self.name!r} returned {scores.shape[0]} scores for {len(data.metrics)} steps")
        return np.nan_to_num(scores, nan=0.0, posinf=np.finfo(np.float64).max, neginf=np.finfo(np.float64).min)

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise BadInput(f"detector {self.name!r} is not fitted: call fit(train) first")

    def _base_state(self) -> dict[str, Any]:
        return {
            "columns_": np.array(self.columns_, dtype=str),
            "column_table_": self._table(),
            "fill_values_": np.asarray(self.fill_values_, dtype=np.float64),
            "train_scores_": self.train_scores_,
            "threshold_": self.threshold_,
            **(self.drift_.to_state() if self.drift_ is not None else {}),
        }

    def _set_base_state(self, state: dict[str, Any]) -> None:
        self.columns_ = [str(c) for c in state["columns_"]]
        self.column_table_ = [dict(row) for row in state.get("column_table_", [])] or self._table()
        self.fill_values_ = np.asarray(state.get("fill_values_", np.zeros(len(self.columns_))), dtype=np.float64)
        self.train_scores_ = np.asarray(state["train_scores_"], dtype=np.float64)
        self.threshold_ = float(state["threshold_"])
        self.alignment_ = {"policy": self.series_policy, "missing": 0, "new": 0, "missing_columns": [], "new_columns": []}
        self.drift_ = DriftBaseline.from_state(state)


def last_steps(data: Dataset, steps: int) -> Dataset:
    """The last ``steps`` steps of ``data`` (all of it when shorter): a live scorer's buffer tail."""
    if len(data.metrics) <= steps:
        return data
    return replace(
        data,
        metrics=data.metrics.iloc[-steps:],
        labels=data.labels.iloc[-steps:],
        mask=None if data.mask is None else data.mask.iloc[-steps:],
    )


class Localizer(ABC):
    """Mixin for detectors that can rank root causes (services, and metrics where it can)."""

    def localize(self, data: Dataset, segments: Sequence[tuple[int, int]] | None = None) -> list[RootCauseRanking]:
        """One ranking per segment ``(start, end)`` (end exclusive, step indices of ``data``).

        Without ``segments`` the detector's own predicted anomalous segments are used; pass
        the labelled fault segments to judge root-cause ranking apart from detection.
        """
        assert isinstance(self, Detector)
        aligned = self.align(data)
        if segments is None:
            segments = flag_segments(self.predict(aligned))
        return rank_segments(aligned, segments, lambda start, end: self._rank(aligned, start, end))

    @abstractmethod
    def _rank(self, data: Dataset, start: int, end: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Ranked ``(service, score)`` and ``(metric column, score)`` pairs for one segment."""


def rank_segments(data: Dataset, segments: Sequence[tuple[int, int]],
                  rank: Callable[[int, int], tuple[list[tuple[str, float]], list[tuple[str, float]]]]) -> list[RootCauseRanking]:
    """One :class:`RootCauseRanking` per segment ``(start, end)`` of ``data`` (end exclusive) from
    ``rank(start, end)``, with the segment's times and labelled fault ids; BadInput for a segment
    outside the data. Every localizer, detector or not, reports through here."""
    fault_ids = data.labels["fault_id"].to_numpy(dtype=str) if "fault_id" in data.labels else None
    stamps = data.timestamps
    out = []
    for start, end in segments:
        start, end = int(start), int(end)
        if not 0 <= start < end <= len(stamps):
            raise BadInput(f"segment ({start}, {end}) is outside the {len(stamps)} steps of {data.name!r}")
        services, metrics = rank(start, end)
        ids = sorted({f for f in fault_ids[start:end] if f}) if fault_ids is not None else []
        out.append(RootCauseRanking(start, end, stamps[start].isoformat(), stamps[end - 1].isoformat(),
                                    services, metrics, ",".join(ids)))
    return out


class Classifier(_Method):
    """Names the fault type of ``N x window x F`` metric windows.

    Fitted attributes: ``classes_`` (sorted fault types; ``predict_proba`` columns follow it),
    ``window_size_``, ``n_features_``, ``columns_`` and ``graph_`` (graph models use these to
    map features to services; see :func:`faultlab.detectors.windows.fault_windows`).
    """

    kind = "classifier"
    registry = CLASSIFIERS
    #: True for models that accept windows with another number of series than at fit time
    #: (graph models with one node per series, e.g. TELESTO); only the window length must match.
    dimension_invariant: ClassVar[bool] = False

    classes_: np.ndarray
    window_size_: int
    n_features_: int
    columns_: list[str]
    graph_: ServiceGraph

    def fit(
        self,
        windows: np.ndarray,
        labels: Sequence[str],
        *,
        columns: Sequence[str] | None = None,
        graph: ServiceGraph | None = None,
    ) -> Self:
        windows = _check_windows(windows, self.name)
        labels_arr = np.asarray([str(x) for x in labels])
        if len(labels_arr) != windows.shape[0]:
            raise BadInput(f"classifier {self.name!r}: {windows.shape[0]} windows but {len(labels_arr)} labels")
        if windows.shape[0] == 0:
            raise BadInput(f"classifier {self.name!r}: no training windows (the dataset has no labelled faults?)")
        self.window_size_, self.n_features_ = int(windows.shape[1]), int(windows.shape[2])
        self.columns_ = list(columns) if columns is not None else [f"f{i}" for i in range(self.n_features_)]
        if len(self.columns_) != self.n_features_:
            raise BadInput(f"classifier {self.name!r}: {len(self.columns_)} column names for {self.n_features_} features")
        self.graph_ = graph or ServiceGraph([], [])
        self.classes_ = np.unique(labels_arr)
        self._fit(windows, labels_arr)
        return self

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """``N x len(classes_)`` class probabilities (rows sum to 1)."""
        self._check_fitted()
        windows = _check_windows(windows, self.name)
        expected = (self.window_size_, windows.shape[2] if self.dimension_invariant else self.n_features_)
        if windows.shape[1:] != expected:
            raise BadInput(
                f"classifier {self.name!r} was fitted on windows of {self.window_size_} x {self.n_features_}, "
                f"got {windows.shape[1]} x {windows.shape[2]}"
            )
        proba = np.asarray(self._predict_proba(windows), dtype=np.float64)
        if proba.shape != (windows.shape[0], len(self.classes_)):
            raise RuntimeError(f"classifier {self.name!r} returned probabilities of shape {proba.shape}")
        return proba

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """The most probable fault type per window (ties: the first in ``classes_``)."""
        return self.classes_[np.argmax(self.predict_proba(windows), axis=1)]

    @abstractmethod
    def _fit(self, windows: np.ndarray, labels: np.ndarray) -> None: ...

    @abstractmethod
    def _predict_proba(self, windows: np.ndarray) -> np.ndarray: ...

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise BadInput(f"classifier {self.name!r} is not fitted: call fit(windows, labels) first")

    def _base_state(self) -> dict[str, Any]:
        return {
            "classes_": self.classes_.astype(str),
            "columns_": np.array(self.columns_, dtype=str),
            "window_size_": self.window_size_,
            "n_features_": self.n_features_,
            "graph_": self.graph_.to_json(),
        }

    def _set_base_state(self, state: dict[str, Any]) -> None:
        self.classes_ = np.asarray(state["classes_"]).astype(str)
        self.columns_ = [str(c) for c in state["columns_"]]
        self.window_size_ = int(state["window_size_"])
        self.n_features_ = int(state["n_features_"])
        self.graph_ = ServiceGraph.from_json(state["graph_"])


def _check_windows(windows: np.ndarray, name: str) -> np.ndarray:
    windows = np.asarray(windows, dtype=np.float64)
    if windows.ndim != 3:
        raise BadInput(f"classifier {name!r}: windows must be N x window x features, got shape {windows.shape}")
    return windows
