#!/usr/bin/python3
"""The Fraud Detection Handbook's evaluation protocol, with a plain-XGBoost baseline, to compare our pipeline to.

Le Borgne et al., *Reproducible Machine Learning for Credit Card Fraud Detection - Practical Handbook*:
chapter 3 "Baseline feature transformation" (the 15 features) and "Baseline fraud detection system"
(``get_train_test_set``: train, delay period, test, known compromised cards removed from the test days).
The question answered: how does our pipeline (``npm run score`` files) compare with "a plain XGBoost on the
handbook's rolling-window features, trained on the same labels", on exactly the same test rows?

Windows, for a cut-off C (a UTC midnight: labels of transactions before C are known) and a delay of D days
(day 0 = the UTC day of the first transaction):

    warm-up (30 d) | training labels: [day 0 + warm-up, C) | delay [C, C + D) | test [C + D, C + D + T)

* ``handbook_features``: the handbook's 15 features, computed for every transaction from the data sorted by
  time (ties in file order: timestamp, then tx_id). Customer windows are pandas' ``rolling('<w>d')``: the
  transactions in (t - w, t] of the same customer, the current one included and later ties excluded.
  Terminal windows use the delay: counts and frauds in (t - D - w, t - D], i.e. rolling(D + w) minus
  rolling(D), risk = frauds / count, 0 when the count is 0 (the handbook's fillna(0)). A label therefore
  enters a feature only D days after its transaction: the handbook's delay rule, applied to every row.
* ``protocol_split``: training rows = every transaction in [day 0 + warm-up, C) (all labelled). Test = the
  transactions of the days C + D + k, k = 0 .. T - 1, minus the customers KNOWN to be compromised on that
  day: the customers with a fraud among the training rows, plus, cumulatively, for each test day k, the
  customers with a fraud on day C + k - 1 (the handbook adds, for test day k, the frauds of day
  ``start_train + delta_train + k - 1``, i.e. of the delay-period day whose labels have just become known;
  for k = 0 that is the last training day). Frauds before the warm-up's end do not make a customer known
  (the handbook only looks at its training window). Test labels never reach training; with T <= D they
  cannot reach a test row's features either (a label of day C + D + j is used only from day C + 2D + j).
  "Known" reaches back ``--known-days`` (default 7) before C: the handbook's own reach (its training window
  is 7 days), which gives the benchmark's test size (about 58,000 rows a week in the handbook's world).
  Counting every training label instead (``--known-days 0``) marks 50-65% of the customers of
  ml/handbook.py's worlds by August (every customer who used a compromised terminal has a fraud), and
  removes more test rows than it keeps.
* ``baseline``: XGBoost on the features of the training rows, scoring the test rows, in two variants:
  - ``plain``: the handbook's ``xgboost.XGBClassifier()`` defaults, i.e. 100 trees and the library's
    defaults (max_depth 6, eta 0.3, min_child_weight 1, subsample 1, colsample 1, lambda 1, base_score 0.5,
    tree_method left to the library: ``auto``, which xgboost 1.7.4 resolves to ``exact`` here; the JSON
    report says which) with ``binary:logistic`` and seed 0. ``xgboost.train`` alone would default to 10
    rounds of ``reg:squarederror``: those two are set to the classifier's.
  - ``tuned``: ml/train.py's hyperparameters (hist, max_depth 6, eta 0.05, subsample 0.8, colsample_bytree
    0.8, min_child_weight 2, lambda 1, seed 7), early stopping (40 rounds, at most 600) on the validation
    average precision (``train.average_precision``, exactly), validation being the last 14 labelled days
    [C - 14, C) and the selection fit on [day 0 + warm-up, C - 14 - D) (a D-day gap, so the fit's labels
    were known at the validation's start); then refit on all training rows with the number of rounds chosen.
* ``--scores``: CSVs written by ``npm run score`` (``tx_id`` plus columns named ``score`` or ``score_*``),
  evaluated on exactly the protocol's test rows, matched by tx_id (a missing test row is an error).

Metrics come from ml/train.py (AUC ROC, average precision, precision@100), imported, not copied. Only the standard
library, numpy and xgboost are used here (importing ml/train.py also imports ml/gnn.py and so torch).
"""
import argparse
import csv
import datetime as dt
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import EARLY_STOPPING, MAX_ROUNDS, XGB_PARAMS, XgbProgress, average_precision, metrics  # noqa: E402

DAY = 86400
WINDOWS = (1, 7, 30)
FEATURES = [
    "TX_AMOUNT", "TX_DURING_WEEKEND", "TX_DURING_NIGHT",
    "CUSTOMER_ID_NB_TX_1DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW",
    "CUSTOMER_ID_NB_TX_7DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW",
    "CUSTOMER_ID_NB_TX_30DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW",
    "TERMINAL_ID_NB_TX_1DAY_WINDOW", "TERMINAL_ID_RISK_1DAY_WINDOW",
    "TERMINAL_ID_NB_TX_7DAY_WINDOW", "TERMINAL_ID_RISK_7DAY_WINDOW",
    "TERMINAL_ID_NB_TX_30DAY_WINDOW", "TERMINAL_ID_RISK_30DAY_WINDOW",
]
COLUMNS = ["tx_id", "timestamp", "customer_id", "terminal_id", "amount", "label"]
PLAIN_PARAMS = {"objective": "binary:logistic", "seed": 0}
PLAIN_ROUNDS = 100
# ml/train.py's settings (its metric list aside: the tuned baseline stops on exact average precision).
TUNED_PARAMS = {**{k: v for k, v in XGB_PARAMS.items() if k != "eval_metric"}, "seed": 7}
# The tuned baseline's bounds are ml/train.py's (module names of their own, so a test can shorten them).
TUNED_MAX_ROUNDS, TUNED_EARLY_STOPPING, VALID_DAYS = MAX_ROUNDS, EARLY_STOPPING, 14


def _quiet(message):
    pass


# ---------------------------------------------------------------------------------------------------- reading
def parse_timestamps(texts):
    """Canonical timestamps (docs/fraud-ml.md) -> int64 epoch seconds: ISO-8601 (``Z``, an offset, or none =
    UTC; ``T`` or a space) or epoch seconds (milliseconds above 1e12)."""
    texts = list(texts)
    if texts and all(len(s) == 20 and s[-1] == "Z" and s[10] == "T" for s in texts):
        try:
            return np.array([s[:-1] for s in texts], dtype="datetime64[s]").astype(np.int64)
        except ValueError:
            pass
    out = np.empty(len(texts), dtype=np.int64)
    for i, s in enumerate(texts):
        v = s.strip()
        try:
            if v.replace(".", "", 1).isdigit():
                x = float(v)
                out[i] = int(x / 1000) if x > 1e12 else int(x)
                continue
            t = dt.datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
            if t.tzinfo is None:
                t = t.replace(tzinfo=dt.timezone.utc)
            out[i] = int(t.timestamp())
        except ValueError:
            raise ValueError(f"row {i + 2}: timestamp {s!r} is not ISO-8601 or epoch seconds") from None
    return out


def _codes(values):
    """Integer codes of string ids, in order of first appearance."""
    seen = {}
    return np.array([seen.setdefault(v, len(seen)) for v in values], dtype=np.int64)


def read_transactions(path, log=_quiet):
    """The columns the protocol needs from a canonical transactions CSV (canonical names only), sorted by
    timestamp then tx_id. Returns a dict: ``tx_id`` (list of str), ``ts`` (int64 s), ``customer``,
    ``terminal`` (int64 codes), ``amount`` (float64), ``label`` (int8); every row must have a 0/1 label."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise SystemExit(f"{path}: empty file") from None
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(missing)} (canonical names, docs/fraud-ml.md)")
        at = [header.index(c) for c in COLUMNS]
        cols = [[] for _ in COLUMNS]
        for record in reader:
            if not record:
                continue
            for col, i in zip(cols, at):
                col.append(record[i])
    ids, stamps, custs, terms, amounts, labels = cols
    if not ids:
        raise SystemExit(f"{path}: no rows")
    log(f"read {len(ids):,} rows from {path}")
    try:
        ts = parse_timestamps(stamps)
    except ValueError as e:
        raise SystemExit(f"{path}: {e}") from None
    try:
        amount = np.array(amounts, dtype=np.float64)
    except ValueError:
        raise SystemExit(f"{path}: an amount is not a decimal number") from None
    bad = [i for i, v in enumerate(labels) if v not in ("0", "1")]
    if bad:
        raise SystemExit(f"{path}:{bad[0] + 2}: label {labels[bad[0]]!r}: the protocol needs a 0/1 label on every row "
                         f"({len(bad):,} rows without one)")
    label = np.array(labels, dtype=np.int8)
    if len(set(ids)) != len(ids):
        raise SystemExit(f"{path}: tx_id values are not unique")
    customer, terminal = _codes(custs), _codes(terms)
    id_array = np.array(ids)
    ties = np.flatnonzero(np.diff(ts) == 0)
    if np.all(np.diff(ts) >= 0) and np.all(id_array[ties] < id_array[ties + 1]):
        order = None
    else:
        order = np.lexsort((id_array, ts))
    out = dict(tx_id=ids, ts=ts, customer=customer, terminal=terminal, amount=amount, label=label)
    if order is not None:
        out = {k: ([v[i] for i in order] if k == "tx_id" else v[order]) for k, v in out.items()}
    return out


# ---------------------------------------------------------------------------------------------------- features
def handbook_features(ts, customer, terminal, amount, label, delay_days=7, windows=WINDOWS):
    """The handbook's 15 baseline features (``FEATURES`` order) as a float64 matrix, one row per transaction.

    Inputs are parallel arrays sorted by time (ts: epoch seconds, non-decreasing; ties are taken in the given
    order, as pandas' rolling does: a row's window holds it and the earlier rows). ``customer`` and
    ``terminal`` are integer codes, ``label`` 0/1. For window w days:
    CUSTOMER_ID_NB_TX = #{same customer, t_j in (t - w, t], j <= i}; CUSTOMER_ID_AVG_AMOUNT = their mean amount;
    TERMINAL_ID_NB_TX = #{same terminal, t_j in (t - D - w, t - D]}; TERMINAL_ID_RISK = their frauds / count
    (0 when none). TX_DURING_WEEKEND: Saturday or Sunday (UTC); TX_DURING_NIGHT: UTC hour <= 6.
    Vectorised per group with a searchsorted on (group, time) keys."""
    ts = np.asarray(ts, dtype=np.int64)
    n = len(ts)
    if delay_days <= 0 or int(delay_days) != delay_days:
        raise ValueError("the delay must be a whole number of days >= 1")
    if n and np.any(np.diff(ts) < 0):
        raise ValueError("transactions must be sorted by time")
    customer, terminal = np.asarray(customer, np.int64), np.asarray(terminal, np.int64)
    amount, label = np.asarray(amount, np.float64), np.asarray(label, np.int64)
    x = np.zeros((n, len(FEATURES)))
    if n == 0:
        return x
    delay = int(delay_days) * DAY
    x[:, 0] = amount
    x[:, 1] = ((ts // DAY + 3) % 7 >= 5)          # 1970-01-01 was a Thursday (weekday 3)
    x[:, 2] = (ts % DAY) // 3600 <= 6
    rel = ts - ts[0]
    span = int(rel[-1]) + delay + max(windows) * DAY + 1

    # amounts summed exactly in cents when they are whole cents, else in extended precision
    cents = np.rint(amount * 100)
    exact = bool(np.all(cents / 100 == amount)) and float(np.abs(cents).sum()) < 2 ** 53
    values = cents.astype(np.int64) if exact else amount.astype(np.longdouble)

    order = np.argsort(customer, kind="stable")
    key = customer[order] * span + rel[order]
    csum = np.r_[np.zeros(1, values.dtype), np.cumsum(values[order])]
    pos = np.arange(n)
    col = 3
    for w in windows:
        first = np.searchsorted(key, key - w * DAY, side="right")
        count = pos - first + 1
        total = csum[pos + 1] - csum[first]
        avg = (total / 100 / count) if exact else (total / count)
        x[order, col] = count
        x[order, col + 1] = np.asarray(avg, dtype=np.float64)
        col += 2

    order = np.argsort(terminal, kind="stable")
    key = terminal[order] * span + rel[order]
    fsum = np.r_[0, np.cumsum(label[order])]
    hi = np.searchsorted(key, key - delay, side="right")
    for w in windows:
        lo = np.searchsorted(key, key - delay - w * DAY, side="right")
        count = hi - lo
        frauds = fsum[hi] - fsum[lo]
        x[order, col] = count
        x[order, col + 1] = np.where(count > 0, frauds / np.maximum(count, 1), 0.0)
        col += 2
    return x


# ---------------------------------------------------------------------------------------------------- split
def day_start(ts):
    """00:00 UTC of the day of epoch second ts."""
    return int(ts) // DAY * DAY


def protocol_split(ts, customer, label, cutoff, delay_days=7, test_days=7, warmup_days=30, start=None,
                   known_days=7):
    """The handbook's train / test split generalised to all labels before the cut-off (see the module doc).

    ``cutoff`` and ``start`` are epoch seconds (``start`` defaults to 00:00 UTC of the first transaction's
    day). ``known_days`` (default 7, the handbook's reach; None or 0: all of them) limits the training frauds
    that make a customer known to those of the last N days before the cut-off.
    Returns a dict of boolean masks ``train``, ``test``, ``removed`` (test-window rows dropped because
    their customer was known to be compromised), and ``days``: per test day, its start, rows kept and
    removed and the number of known customers."""
    ts, customer, label = np.asarray(ts, np.int64), np.asarray(customer), np.asarray(label)
    start = day_start(ts.min()) if start is None else int(start)
    cutoff, d = int(cutoff), int(delay_days)
    train_start = start + int(warmup_days * DAY)
    if cutoff <= train_start:
        raise ValueError(f"the cut-off must be after the warm-up's end ({iso(train_start)})")
    if d < 1 or test_days < 1:
        raise ValueError("the delay and the test must last at least one day")
    train = (ts >= train_start) & (ts < cutoff)
    recent = train if not known_days else train & (ts >= cutoff - int(known_days) * DAY)
    known = set(np.unique(customer[recent & (label == 1)]).tolist())
    test = np.zeros(len(ts), bool)
    removed = np.zeros(len(ts), bool)
    days = []
    for k in range(test_days):
        newly = (ts >= cutoff + (k - 1) * DAY) & (ts < cutoff + k * DAY) & (label == 1)
        known.update(np.unique(customer[newly]).tolist())
        lo = cutoff + (d + k) * DAY
        in_day = (ts >= lo) & (ts < lo + DAY)
        drop = in_day & np.isin(customer, np.fromiter(known, dtype=customer.dtype, count=len(known)))
        test |= in_day & ~drop
        removed |= drop
        days.append({"day": iso(lo), "rows": int((in_day & ~drop).sum()), "removed": int(drop.sum()),
                     "known_customers": len(known)})
    return {"train": train, "test": test, "removed": removed, "days": days,
            "windows": {"train": [iso(train_start), iso(cutoff)], "delay": [iso(cutoff), iso(cutoff + d * DAY)],
                        "test": [iso(cutoff + d * DAY), iso(cutoff + (d + test_days) * DAY)]}}


# ---------------------------------------------------------------------------------------------------- baseline
def selection_windows(training, ts, cutoff, delay_days):
    """Within the training rows: validation = the last VALID_DAYS before the cut-off, and the selection fit =
    the rows older than validation by the delay (its labels were known when validation starts). The tuned
    baseline and ml/ablation.py choose their rounds on them."""
    fit = training & (ts < cutoff - (VALID_DAYS + int(delay_days)) * DAY)
    valid = training & (ts >= cutoff - VALID_DAYS * DAY)
    return fit, valid


def _ap_metric(predt, dmatrix):
    return "average_precision", average_precision(dmatrix.get_label().astype(np.int64), predt.astype(np.float64))


def baseline(x, label, ts, train, test, cutoff, delay_days=7, threads=None, log=_quiet):
    """XGBoost on the handbook features of the training rows, scoring the test rows: ``plain`` (the handbook's
    XGBClassifier defaults) and ``tuned`` (ml/train.py's settings, early stopping on validation AP, refit).
    Returns {"plain": {...}, "tuned": {...}}, each with ``scores`` (test rows, in order), ``params``, ``rounds``."""
    threads = threads or os.cpu_count() or 1
    y = np.asarray(label, np.float64)
    ts = np.asarray(ts, np.int64)
    matrix = lambda mask, labelled=True: xgb.DMatrix(x[mask], label=y[mask] if labelled else None,
                                                     feature_names=FEATURES, nthread=threads)
    if not train.any() or y[train].sum() == 0:
        raise ValueError("no fraud among the training labels")
    dtrain, dtest = matrix(train), matrix(test, labelled=False)
    out = {}

    started = time.time()
    params = {**PLAIN_PARAMS, "nthread": threads}
    log(f"baseline plain: {PLAIN_ROUNDS} rounds on {int(train.sum()):,} rows (XGBClassifier defaults)")
    booster = xgb.train(params, dtrain, num_boost_round=PLAIN_ROUNDS, callbacks=[XgbProgress(PLAIN_ROUNDS, log, name="plain")])
    method = json.loads(booster.save_config())["learner"]["gradient_booster"]["gbtree_train_param"].get("tree_method")
    out["plain"] = {"scores": booster.predict(dtest).astype(np.float64), "rounds": PLAIN_ROUNDS,
                    "params": {k: v for k, v in params.items() if k != "nthread"}, "tree_method": method,
                    "seconds": round(time.time() - started, 1)}

    started = time.time()
    fit, valid = selection_windows(train, ts, cutoff, delay_days)
    for name, mask in (("fit", fit), ("validation", valid)):
        if not mask.any() or y[mask].sum() == 0:
            raise ValueError(f"the tuned baseline's {name} window has no fraud: move the cut-off later")
    params = {**TUNED_PARAMS, "nthread": threads, "disable_default_eval_metric": 1}
    log(f"baseline tuned: selection on {int(fit.sum()):,} rows, early stopping on the validation AP "
        f"({int(valid.sum()):,} rows, {VALID_DAYS} days before the cut-off)")
    history = {}
    selected = xgb.train(params, matrix(fit), num_boost_round=TUNED_MAX_ROUNDS, evals=[(matrix(valid), "valid")],
                         custom_metric=_ap_metric, maximize=True, early_stopping_rounds=TUNED_EARLY_STOPPING,
                         evals_result=history, verbose_eval=False,
                         callbacks=[XgbProgress(TUNED_MAX_ROUNDS, log, name="tuned (selection)", metric="average_precision")])
    rounds = selected.best_iteration + 1
    valid_ap = history["valid"]["average_precision"][rounds - 1]
    log(f"  tuned: {rounds} rounds (validation AP {valid_ap:.4f}); refit on all {int(train.sum()):,} training rows")
    booster = xgb.train(params, dtrain, num_boost_round=rounds, callbacks=[XgbProgress(rounds, log, name="tuned (refit)")])
    out["tuned"] = {"scores": booster.predict(dtest).astype(np.float64), "rounds": rounds,
                    "params": {k: v for k, v in params.items() if k not in ("nthread", "disable_default_eval_metric")},
                    "validation_average_precision": valid_ap, "selection_rows": int(fit.sum()),
                    "validation_rows": int(valid.sum()), "seconds": round(time.time() - started, 1)}
    return out


# ---------------------------------------------------------------------------------------------------- scores
def score_columns(header):
    return [c for c in header if c == "score" or c.startswith("score_")]


def read_scores(path, tx_ids, labels=None):
    """Score columns (``score`` and ``score_*``) of an ``npm run score`` CSV for exactly the given tx_ids, in
    their order: {column: float64 array}. Raises ValueError when a tx_id is missing or a score is not a number
    (and, with ``labels``, when the file's label column disagrees with them)."""
    want = {t: i for i, t in enumerate(tx_ids)}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"{path}: empty file") from None
        if "tx_id" not in header:
            raise ValueError(f"{path}: no tx_id column")
        names = score_columns(header)
        if not names:
            raise ValueError(f"{path}: no score column (a column named score or score_*)")
        id_at, at = header.index("tx_id"), [header.index(c) for c in names]
        label_at = header.index("label") if "label" in header else None
        out = {c: np.full(len(want), np.nan) for c in names}
        seen = np.zeros(len(want), bool)
        for line, record in enumerate(reader, start=2):
            i = want.get(record[id_at]) if record else None
            if i is None:
                continue
            if seen[i]:
                raise ValueError(f"{path}:{line}: tx_id {record[id_at]} appears twice")
            seen[i] = True
            for c, j in zip(names, at):
                try:
                    v = float(record[j])
                except (ValueError, IndexError):
                    v = float("nan")
                if not np.isfinite(v):
                    raise ValueError(f"{path}:{line}: {c} {record[j] if j < len(record) else ''!r} is not a number")
                out[c][i] = v
            if labels is not None and label_at is not None and record[label_at] not in ("", str(int(labels[i]))):
                raise ValueError(f"{path}:{line}: tx_id {record[id_at]} has label {record[label_at]} there but "
                                 f"{int(labels[i])} in the data: scores of other data?")
    if not seen.all():
        missing = [t for t, i in want.items() if not seen[i]]
        raise ValueError(f"{path}: {len(missing):,} of the {len(want):,} protocol test rows have no score "
                         f"(first: {', '.join(missing[:5])}); score the whole test window")
    return out


# ---------------------------------------------------------------------------------------------------- report
def iso(seconds):
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(text, option):
    try:
        return int(dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc).timestamp())
    except ValueError:
        raise SystemExit(f"{option} {text!r} is not a date: use YYYY-MM-DD") from None


def table(results, deltas):
    lines = [f"{'model':<34}{'rows':>9}{'frauds':>8}{'AUC ROC':>9}{'AP':>8}{'P@100':>7}{'AP delta':>10}"]
    for name, m in results.items():
        delta = f"{deltas[name]:+10.4f}" if name in deltas else ""
        lines.append(f"{name:<34}{m['rows']:>9,}{m['frauds']:>8,}{m['auc_roc']:>9.4f}{m['average_precision']:>8.4f}"
                     f"{m['precision_at_100']:>7.2f}{delta}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Evaluate on the Fraud Detection Handbook's protocol: the handbook's 15 features, a plain and a "
                    "tuned XGBoost baseline trained on the labels known at the cut-off, and optionally our "
                    "pipeline's scores (npm run score) on exactly the same test rows. See the module docstring.",
        epilog="Windows: training [data start + warm-up, cut-off), delay [cut-off, cut-off + D), test "
               "[cut-off + D, cut-off + D + test days), minus the customers known to be compromised (the handbook's "
               "get_train_test_set). Example: python3 ml/protocol.py --data data/handbook.csv --cutoff 2018-07-31")
    ap.add_argument("--data", required=True, help="transactions CSV (canonical columns; every row labelled)")
    ap.add_argument("--cutoff", required=True, help="YYYY-MM-DD: labels of transactions before 00:00 UTC that day are known")
    ap.add_argument("--delay-days", type=int, default=7, help="delay period D in days (default 7)")
    ap.add_argument("--test-days", type=int, default=7, help="test days after the delay (default 7)")
    ap.add_argument("--warmup-days", type=int, default=30, help="days skipped at the start while the 30-day windows fill (default 30)")
    ap.add_argument("--known-days", type=int, default=7, help="only the training frauds of the last N days before the cut-off make a "
                    "customer known to be compromised (default 7: the handbook's training window; 0: every training label)")
    ap.add_argument("--scores", help="comma-separated npm run score CSVs; their score and score_* columns are evaluated on the test rows")
    ap.add_argument("--json", help="write all results to this JSON file")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help=f"xgboost threads (default: the CPUs, {os.cpu_count()})")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr (the table still goes to stdout)")
    a = ap.parse_args(argv)
    if a.threads < 1:
        ap.error("--threads must be at least 1")
    started = time.time()
    log = _quiet if a.quiet else (lambda m: print(f"[{time.time() - started:6.1f}s] {m}", file=sys.stderr, flush=True))
    cutoff = parse_date(a.cutoff, "--cutoff")

    tx = read_transactions(a.data, log)
    try:
        split = protocol_split(tx["ts"], tx["customer"], tx["label"], cutoff, a.delay_days, a.test_days, a.warmup_days,
                               known_days=a.known_days)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    train, test = split["train"], split["test"]
    if tx["ts"].max() < cutoff + (a.delay_days + a.test_days) * DAY - DAY:
        raise SystemExit(f"the data ends {iso(tx['ts'].max())}, before the test window's last day "
                         f"({split['windows']['test'][1]} exclusive)")
    y_test = tx["label"][test].astype(np.int64)
    log(f"windows: train {split['windows']['train'][0]}..{split['windows']['train'][1]} ({int(train.sum()):,} rows, "
        f"{int(tx['label'][train].sum()):,} frauds); test {split['windows']['test'][0]}..{split['windows']['test'][1]} "
        f"({int(test.sum()):,} rows, {int(y_test.sum()):,} frauds; {int(split['removed'].sum()):,} rows of known "
        f"compromised customers removed)")
    if not test.any() or y_test.sum() == 0:
        raise SystemExit("the test window has no fraud: choose another cut-off")

    # the score files first: a missing test row fails before the training
    test_ids = [i for i, keep in zip(tx["tx_id"], test) if keep]
    files = [f for f in (a.scores or "").split(",") if f]
    scored = []
    for path in files:
        try:
            scored.append((path, read_scores(path, test_ids, y_test)))
        except (ValueError, OSError) as e:
            first, last = split["windows"]["test"][0][:10], iso(parse_date(split["windows"]["test"][1][:10], "") - DAY)[:10]
            raise SystemExit(f"{e} (npm run score -- --data {a.data} --from {first} --to {last} scores it)") from None
        log(f"{path}: {', '.join(scored[-1][1])} for all {len(test_ids):,} test rows")

    t = time.time()
    x = handbook_features(tx["ts"], tx["customer"], tx["terminal"], tx["amount"], tx["label"], a.delay_days)
    log(f"handbook features: {x.shape[0]:,} x {x.shape[1]} in {time.time() - t:.1f} s")
    try:
        base = baseline(x, tx["label"], tx["ts"], train, test, cutoff, a.delay_days, a.threads, log)
    except ValueError as e:
        raise SystemExit(str(e)) from None

    results = {"baseline plain": metrics(y_test, base["plain"]["scores"]),
               "baseline tuned": metrics(y_test, base["tuned"]["scores"])}
    best_base = max(("baseline plain", "baseline tuned"), key=lambda k: results[k]["average_precision"])
    deltas, score_info = {}, {}
    for path, cols in scored:
        for col, s in cols.items():
            name = col if len(files) == 1 else f"{os.path.basename(path)}:{col}"
            results[name] = metrics(y_test, s)
            deltas[name] = results[name]["average_precision"] - results[best_base]["average_precision"]
            score_info[name] = {"file": path, "column": col, "ap_delta_vs_best_baseline": deltas[name]}

    print(f"handbook protocol on {a.data}: cut-off {a.cutoff}, delay {a.delay_days} d, test {a.test_days} d "
          f"({split['windows']['test'][0]}..{split['windows']['test'][1]}), warm-up {a.warmup_days} d")
    print(table(results, deltas))
    if deltas:
        print(f"AP delta: against the better baseline ({best_base})")
    if a.json:
        report = {
            "data": a.data, "cutoff": a.cutoff, "delay_days": a.delay_days, "test_days": a.test_days,
            "warmup_days": a.warmup_days, "known_days": a.known_days, "windows": split["windows"], "test_days_detail": split["days"],
            "train": {"rows": int(train.sum()), "frauds": int(tx["label"][train].sum())},
            "test": {"rows": int(test.sum()), "frauds": int(y_test.sum()), "removed_rows": int(split["removed"].sum())},
            "features": FEATURES,
            "baselines": {k: {kk: vv for kk, vv in v.items() if kk != "scores"} for k, v in base.items()},
            "best_baseline": best_base, "metrics": results, "scores": score_info,
            "seconds": round(time.time() - started, 1),
        }
        d = os.path.dirname(a.json)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(a.json, "w") as handle:
            json.dump(report, handle, indent=2)
            handle.write("\n")
    log(f"done in {time.time() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
