"""Calibrating an SX model on batch shake-out data: ``magcycle sx fit DATA.csv --model M``.

Data (CSV, one row per element and test; header names as below, any order)
    element          symbol of the metal (any component the SX engine takes)
    pH | acid        equilibrium pH, or free acid [mol/L H+] (pH = -log10 acid)
    extractant       empirical_ph: extractant [vol %]; mass_action: extractant HA [mol/L]
                     (constant_beta: not used, may be absent)
    OA               organic/aqueous phase ratio [-] (default 1)
    D | aqueous, organic | aqueous_initial, aqueous
                     the distribution ratio, or the equilibrium concentrations [mol/L] (D =
                     organic/aqueous), or the aqueous before and after contact (organic =
                     (aqueous_initial - aqueous)/OA)
    test             (optional) label of the shake-out a row belongs to: constant_beta pairs
                     each element with the reference element of the same test
    weight           (optional) relative weight of the row (> 0; default 1)

Models and parameters (the residual is in log10 D: shake-out errors are relative)
    empirical_ph     log10 D = (m0 + m1 d) pH + B0 + B1 log10 d per element: (m0, m1, B0, B1);
                     with one extractant level in the data, m1 = B1 = 0 (not identifiable) and
                     (m0, B0) are fitted
    mass_action      log10 D = log10 K + c log10(z) + c pH per element (the model's D =
                     K [(HA)2]^c / [H+]^c, c the charge of the element's ion: 3 for the rare
                     earths, Sc, Fe, Al; 2 for Ca, Mg, Mn, Co, Ni, Cu, Zn): log10 K; the free
                     dimer z is half the extractant less
                     what the test's loaded metal holds (2 z_i y_i of HA each), where the data give
                     the organic concentrations of the whole test
    constant_beta    log10 beta_i = log10(D_i / D_ref) in each test holding both (a ``test``
                     column is required), beta_ref = 1

Method
    Weighted least squares of log10 D, per element (per non-reference element for
    constant_beta). Each model is linear in its parameters, so the minimum is found exactly by
    a QR factorisation of the weighted design matrix (no iteration, no start); the covariance is
    s^2 (X' W X)^-1 with s^2 = sum w r^2 / (n - p), and the 95 % intervals are theta +- t(0.975,
    n - p) se (Student's t). A design matrix of lower rank than its parameters (all tests at one
    pH, say) cannot be fitted: :class:`magcycle.errors.ConvergenceError` with the residual.

Reference
    Seber & Wild, Nonlinear Regression (Wiley, 1989), ch. 2 (least squares, the t intervals of
    a model linear in its parameters).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np

from magcycle.errors import ConvergenceError, InputError

__all__ = ["FIT_MODELS", "ShakeOut", "ElementFit", "FitResult", "read_shakeouts", "fit_shakeouts",
           "parameter_block", "free_extractant"]

FIT_MODELS = ("empirical_ph", "mass_action", "constant_beta")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class ShakeOut:
    """Batch shake-out data in arrays (one entry per row)."""

    element: tuple[str, ...]
    pH: np.ndarray
    extractant: np.ndarray  # vol % or mol/L, NaN where not given
    log10_D: np.ndarray
    weight: np.ndarray
    test: tuple[str, ...]
    #: equilibrium organic concentration [mol/L] where the data give it (NaN otherwise)
    organic: np.ndarray | None = None


@dataclass
class ElementFit:
    """Fitted parameters of one element, with covariance and 95 % intervals."""

    element: str
    names: tuple[str, ...]
    value: np.ndarray
    covariance: np.ndarray | None
    low: np.ndarray | None
    high: np.ndarray | None
    points: int
    residual_rms: float  # weighted RMS of the log10 D residuals
    fixed: dict = field(default_factory=dict)
    rows: np.ndarray | None = None  # indices of the data rows used

    def to_dict(self) -> dict:
        def arr(a):
            return None if a is None else [float(v) for v in np.ravel(a)]

        return {"element": self.element, "parameters": dict(zip(self.names, arr(self.value))),
                "fixed": self.fixed, "covariance": None if self.covariance is None else self.covariance.tolist(),
                "interval_95": None if self.low is None else {n: [float(lo), float(hi)] for n, lo, hi in
                                                              zip(self.names, self.low, self.high)},
                "points": self.points, "residual_rms_log10_D": self.residual_rms}


@dataclass
class FitResult:
    model: str
    fits: list[ElementFit]
    observed: np.ndarray  # log10 D of the rows used
    predicted: np.ndarray
    row_element: tuple[str, ...]
    row_pH: np.ndarray
    reference: str | None = None

    def to_dict(self) -> dict:
        return {"model": self.model, "reference": self.reference,
                "elements": {f.element: f.to_dict() for f in self.fits},
                "residual_rms_log10_D": float(np.sqrt(np.mean((self.observed - self.predicted) ** 2))),
                "parameter_block": parameter_block(self)}


# ------------------------------------------------------------------ reading
def _number(text: str, where: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise InputError(where, f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise InputError(where, f"must be a finite number, got {text!r}")
    return v


def _columns(header: list[str], model: str, name: str) -> dict:
    cols = {}
    for i, h in enumerate(header):
        key = h.strip()
        if key in cols:
            raise InputError(f"{name}: {key}", f"column named twice in the header (columns {cols[key] + 1} and {i + 1})")
        cols[key] = i
    if model == "constant_beta" and "test" not in cols:
        raise InputError(f"{name}: test", "missing column: constant_beta pairs each element with the reference "
                                          "element of the same shake-out test")
    need = ["element"]
    if "pH" not in cols and "acid" not in cols:
        raise InputError(f"{name}: pH", "missing column: give pH or acid")
    if model != "constant_beta" and "extractant" not in cols:
        raise InputError(f"{name}: extractant", f"missing column (the {model} model needs the extractant)")
    has_D = "D" in cols
    has_conc = "aqueous" in cols and ("organic" in cols or "aqueous_initial" in cols)
    if not has_D and not has_conc:
        raise InputError(f"{name}: D", "missing column: give D, or aqueous and organic, or aqueous_initial and "
                                       "aqueous")
    for c in need:
        if c not in cols:
            raise InputError(f"{name}: {c}", "missing column")
    return cols


def _row_D(row, cols, where) -> tuple[float, float]:
    """(D, organic concentration or NaN) of one row."""
    org = float("nan")
    if "D" in cols and (row[cols["D"]].strip() != "" or "aqueous" not in cols):
        D = _number(row[cols["D"]], f"{where}.D")
    else:
        aq = _number(row[cols["aqueous"]], f"{where}.aqueous")
        if "organic" in cols:
            org = _number(row[cols["organic"]], f"{where}.organic")
        else:
            oa = _number(row[cols["OA"]], f"{where}.OA") if "OA" in cols else 1.0
            if not oa > 0:
                raise InputError(f"{where}.OA", f"must be > 0, got {oa:g}")
            org = (_number(row[cols["aqueous_initial"]], f"{where}.aqueous_initial") - aq) / oa
        if not aq > 0 or not org > 0:
            raise InputError(f"{where}.aqueous", f"both phases need metal to give a D (aqueous {aq:g}, "
                                                 f"organic {org:g} mol/L)")
        D = org / aq
    if not D > 0:
        raise InputError(f"{where}.D", f"must be > 0, got {D:g}")
    return D, org


def _row_pH(row, cols, where) -> float:
    if "pH" in cols:
        return _number(row[cols["pH"]], f"{where}.pH")
    acid = _number(row[cols["acid"]], f"{where}.acid")
    if not acid > 0:
        raise InputError(f"{where}.acid", f"must be > 0 mol/L, got {acid:g}")
    return -math.log10(acid)


def _row_extractant(row, cols, where, model) -> float:
    if "extractant" not in cols:
        return float("nan")
    e = _number(row[cols["extractant"]], f"{where}.extractant")
    if not e > 0 or (model == "empirical_ph" and not e < 100):
        raise InputError(f"{where}.extractant", f"must be in (0, 100) vol %, got {e:g}" if model == "empirical_ph"
                         else f"must be > 0 mol/L, got {e:g}")
    return e


def _row(row, cols, where, model, width):
    """(element, pH, extractant, log10 D, weight, test) of one data row."""
    from magcycle.sx.spec import ION_CHARGE

    if len(row) < width:
        raise InputError(where, f"{len(row)} columns, the header has {width}")
    symbol = row[cols["element"]].strip()
    if symbol not in ION_CHARGE:
        raise InputError(f"{where}.element", f"not a metal the SX engine knows: {symbol!r}")
    wt = _number(row[cols["weight"]], f"{where}.weight") if "weight" in cols else 1.0
    if not wt > 0:
        raise InputError(f"{where}.weight", f"must be > 0, got {wt:g}")
    test = row[cols["test"]].strip() if "test" in cols else where
    D, org = _row_D(row, cols, where)
    return (symbol, _row_pH(row, cols, where), _row_extractant(row, cols, where, model), math.log10(D), wt, test,
            org)


def read_shakeouts(text: str, model: str, *, name: str = "data") -> ShakeOut:
    """Parse shake-out CSV text for ``model`` (see the module docstring); InputError names
    the row and column of the first problem (``data row 3.pH``)."""
    if model not in FIT_MODELS:
        raise InputError("--model", f"must be one of {', '.join(FIT_MODELS)}, got {model!r}")
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if not rows:
        raise InputError(name, "empty: no header and no data")
    cols = _columns(rows[0], model, name)
    if len(rows) - 1 > MAX_ROWS:
        raise InputError(name, f"more than {MAX_ROWS} rows")
    parsed = [_row(row, cols, f"{name} row {i}", model, len(rows[0])) for i, row in enumerate(rows[1:], start=2)]
    if not parsed:
        raise InputError(name, "no data rows under the header")
    el, pH, ext, lD, w, test, org = zip(*parsed)
    return ShakeOut(tuple(el), np.array(pH), np.array(ext), np.array(lD), np.array(w), tuple(test), np.array(org))


# ------------------------------------------------------------------ fitting
def _wls(X, y, w, element, names, fixed=None, rows=None) -> ElementFit:
    """Weighted least squares of y on X (rows weighted by w), with covariance and t intervals."""
    from scipy import stats

    n, p = X.shape
    if n < p:
        raise InputError(f"element {element}", f"{n} data points for {p} parameters ({', '.join(names)})")
    sw = np.sqrt(w)
    A, b = X * sw[:, None], y * sw
    Q, R = np.linalg.qr(A)
    diag = np.abs(np.diag(R))
    if diag.min() <= 1e-10 * max(diag.max(), 1e-300):
        rss = float(np.sum(b ** 2))
        raise ConvergenceError(f"fit of {element}: parameters {', '.join(names)} are not identifiable from the "
                               "data (vary pH and extractant between tests)", math.sqrt(rss / n), 0)
    theta = np.linalg.solve(R, Q.T @ b)
    r = b - A @ theta
    dof = n - p
    rms = float(np.sqrt(np.sum(w * (y - X @ theta) ** 2) / np.sum(w)))
    if dof == 0:
        return ElementFit(element, names, theta, None, None, None, n, rms, fixed or {}, rows)
    s2 = float(r @ r) / dof
    Rinv = np.linalg.inv(R)
    cov = s2 * (Rinv @ Rinv.T)
    half = stats.t.ppf(0.975, dof) * np.sqrt(np.diag(cov))
    return ElementFit(element, names, theta, cov, theta - half, theta + half, n, rms, fixed or {}, rows)


def _fit_empirical(data: ShakeOut, idx, element) -> ElementFit:
    pH, d, y = data.pH[idx], data.extractant[idx], data.log10_D[idx]
    if np.unique(d).size >= 2:
        X = np.column_stack((pH, d * pH, np.ones_like(pH), np.log10(d)))
        return _wls(X, y, data.weight[idx], element, ("m0", "m1", "B0", "B1"), rows=idx)
    X = np.column_stack((pH, np.ones_like(pH)))
    # one extractant level: log10 D = m0 pH + (B0 + B1 log10 d) with m1 = B1 = 0
    fit = _wls(X, y, data.weight[idx], element, ("m0", "B0"), fixed={"m1": 0.0, "B1": 0.0}, rows=idx)
    return fit


def free_extractant(data: ShakeOut) -> np.ndarray:
    """Free extractant HA of each row [mol/L]: the row's extractant less 2 z y of every metal loaded in
    its test (Ln(HA2)3 holds 6 HA per Ln3+), where the data give every organic concentration of the
    test; the extractant as given otherwise."""
    from magcycle.sx.spec import ION_CHARGE

    free = np.array(data.extractant, dtype=float)
    if data.organic is None:
        return free
    tests: dict = {}
    for i, t in enumerate(data.test):
        tests.setdefault(t, []).append(i)
    for rows in tests.values():
        org = data.organic[rows]
        if np.all(np.isfinite(org)):
            held = 2.0 * sum(ION_CHARGE[data.element[i]] * data.organic[i] for i in rows)
            free[rows] = data.extractant[rows] - held
    return free


def _charge(element: str) -> float:
    """Charge z of the ion an element loads as (the cascade's default, magcycle.sx.spec.ION_CHARGE)."""
    from magcycle.sx.spec import ION_CHARGE

    return float(ION_CHARGE[element])


def _fit_mass_action(data: ShakeOut, idx, element, free) -> ElementFit:
    free = free[idx]
    if not np.all(free > 0):
        bad = int(idx[np.argmax(~(free > 0))])
        raise InputError(f"row {bad + 2}.extractant", "the metal loaded in its test holds all of the extractant "
                                                      f"({data.extractant[bad]:g} mol/L)")
    z = _charge(element)
    y = data.log10_D[idx] - z * np.log10(free / 2.0) - z * data.pH[idx]
    return _wls(np.ones((idx.size, 1)), y, data.weight[idx], element, ("log10_K",), rows=idx)


def _tests_by_element(data: ShakeOut) -> dict:
    """test -> element -> row index; an element twice in one test is an InputError (one contact, one D)."""
    by_test: dict = {}
    for i, (el, t) in enumerate(zip(data.element, data.test)):
        rows = by_test.setdefault(t, {})
        if el in rows:
            raise InputError(f"test {t}", f"{el} appears twice (rows {rows[el] + 2} and {i + 2}): one D per element "
                                          "and test")
        rows[el] = i
    return by_test


def _fit_beta(data: ShakeOut, reference: str):
    """ln beta_i by weighted least squares of ln(D_i / D_ref) over the tests holding both; the pair's
    weight is 1 / (1/w_i + 1/w_ref), the variance of a difference of two rows."""
    by_test = _tests_by_element(data)
    others = [el for el in dict.fromkeys(data.element) if el != reference]
    if not others:
        raise InputError("element", f"the data hold only the reference {reference}: constant_beta needs another "
                                    "element")
    fits, used_obs, used_pred, used_el, used_pH = [], [], [], [], []
    for el in others:
        pairs = [(rows[el], rows[reference]) for rows in by_test.values() if el in rows and reference in rows]
        if not pairs:
            raise InputError(f"element {el}", f"no test holds both {el} and the reference {reference}")
        i, j = np.array(pairs).T
        y = data.log10_D[i] - data.log10_D[j]  # log10(D_i / D_ref)
        w = 1.0 / (1.0 / data.weight[i] + 1.0 / data.weight[j])
        fit = _wls(np.ones((i.size, 1)), y, w, el, ("log10_beta",), rows=i)
        fits.append(fit)
        used_obs.append(data.log10_D[i])
        used_pred.append(data.log10_D[j] + fit.value[0])
        used_el += [el] * i.size
        used_pH.append(data.pH[i])
    return fits, used_obs, used_pred, used_el, used_pH


def fit_shakeouts(data: ShakeOut, model: str, *, elements=None, reference: str | None = None) -> FitResult:
    """Fit ``model`` to ``data`` (see the module docstring).

    ``elements``: the elements to fit (default all in the data); one the data lacks is an
    InputError. ``reference`` (constant_beta): beta = 1 (default the data's first element).

    >>> import numpy as np
    >>> pH = np.array([1.0, 1.5, 2.0, 1.0, 1.5, 2.0])
    >>> d = np.array([5.0, 5.0, 5.0, 10.0, 10.0, 10.0])
    >>> lD = (0.3 + 0.04 * d) * pH - 1.6 + 0.5 * np.log10(d)          # known m0, m1, B0, B1
    >>> data = ShakeOut(("Nd",) * 6, pH, d, lD, np.ones(6), tuple("abcdef"))
    >>> fit = fit_shakeouts(data, "empirical_ph")
    >>> [round(float(v), 10) for v in fit.fits[0].value]
    [0.3, 0.04, -1.6, 0.5]
    """
    present = list(dict.fromkeys(data.element))
    wanted = list(elements) if elements else present
    for el in wanted:
        if el not in present:
            raise InputError(f"element {el}", f"not in the data (it holds {', '.join(present)})")
    if model == "constant_beta":
        return _beta_result(data, reference or present[0], present, wanted if elements else None)
    free = free_extractant(data) if model == "mass_action" else None  # of every row, once
    fits, obs, pred, els, pHs = [], [], [], [], []
    elem = np.array(data.element)
    for el in wanted:
        idx = np.flatnonzero(elem == el)
        fit = _fit_empirical(data, idx, el) if free is None else _fit_mass_action(data, idx, el, free)
        fits.append(fit)
        obs.append(data.log10_D[idx])
        pred.append(_predict(fit, data, idx, free))
        els += [el] * idx.size
        pHs.append(data.pH[idx])
    return FitResult(model, fits, np.concatenate(obs), np.concatenate(pred), tuple(els), np.concatenate(pHs))


def _beta_result(data: ShakeOut, ref: str, present: list, wanted) -> FitResult:
    """constant_beta: fit every element against ``ref``, keep those ``wanted`` (None: all)."""
    if ref not in present:
        raise InputError("--reference", f"{ref} is not in the data (it holds {', '.join(present)})")
    fits, obs, pred, _, pHs = _fit_beta(data, ref)
    keep = [i for i, f in enumerate(fits) if wanted is None or f.element in wanted]
    if not keep:
        raise InputError("--element", f"only the reference {ref} was asked for: its beta is 1 by definition")
    row_el = tuple(fits[i].element for i in keep for _ in range(obs[i].size))
    return FitResult("constant_beta", [fits[i] for i in keep], np.concatenate([obs[i] for i in keep]),
                     np.concatenate([pred[i] for i in keep]), row_el, np.concatenate([pHs[i] for i in keep]),
                     reference=ref)


def _predict(fit: ElementFit, data: ShakeOut, idx, free) -> np.ndarray:
    """Fitted log10 D of the rows ``idx``: mass_action's where ``free`` (the free extractant) is given."""
    pH, d = data.pH[idx], data.extractant[idx]
    if free is not None:
        z = _charge(fit.element)
        return fit.value[0] + z * np.log10(free[idx] / 2.0) + z * pH
    p = dict(zip(fit.names, fit.value))
    p.update(fit.fixed)
    return (p["m0"] + p["m1"] * d) * pH + p["B0"] + p["B1"] * np.log10(d)


def parameter_block(result: FitResult) -> str:
    """The fitted parameters as a TOML block to paste into a cascade file's [model]."""
    lines = []
    if result.model == "empirical_ph":
        for f in result.fits:
            p = dict(zip(f.names, (float(v) for v in f.value)))
            p.update(f.fixed)
            lines += [f"[model.log10_D.{f.element}]"] + [f"{k} = {p[k]:.6g}" for k in ("m0", "m1", "B0", "B1")] + [""]
    elif result.model == "mass_action":
        lines.append("[model.log10_K]")
        lines += [f"{f.element} = {float(f.value[0]):.6g}" for f in result.fits]
    else:
        lines.append("[model.beta]")
        lines.append(f"{result.reference} = 1.0")
        lines += [f"{f.element} = {10.0 ** float(f.value[0]):.6g}" for f in result.fits]
    return "\n".join(lines).rstrip() + "\n"
