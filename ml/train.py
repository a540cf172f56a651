#!/usr/bin/python3
"""Train the fraud model on replayed feature vectors (npm run features): XGBoost, GraphSAGE and their ensemble.

Usually run through `npm run train`, which replays the transactions CSV through the serving feature and graph
code first. The windows are time splits, placed by when labels become known (ml/windows.py):

    warm-up | fit ............... | gap D | valid ..... | (gap D | test .....) | unlabelled tail
            | refit: every usable label ............. |

1. Selection. XGBoost learns from the fit window and stops early on the validation window's average
   precision (the metric it names: `aucpr`, tested); GraphSAGE learns from the same rows and keeps its best
   validation epoch. The combiner is chosen on validation: the logistic stack of the two models' log-odds
   when its cross-fitted average precision beats the better model alone in at least 95% of the window's
   day-block bootstrap resamples, else that model alone (said in the manifest and the card). The decision thresholds come from the chosen combiner's validation scores.
2. Refit (the default; `--no-refit` turns it off). Both models learn again from every usable label (fit,
   gap and validation) with the settings chosen: XGBoost's number of trees, GraphSAGE's number of epochs,
   the combiner and the thresholds.
3. Test (only with `--test-days N`): the published models on the last N labelled days, which nothing above
   saw.

Rows without a label (an empty label, or labels not yet known at `--until`) are history only: their
features and graph edges count, they are never in a loss. The folder written holds the XGBoost model in its
native JSON (loadable by xgboost itself and by SageMaker's built-in XGBoost), the GraphSAGE weights as JSON,
a manifest (features, ensemble, windows, thresholds), the metrics, a model card and golden predictions for
the parity tests.

Only Python's standard library, numpy, xgboost and torch (Debian: python3-numpy, python3-xgboost, python3-torch).
"""

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import xgboost as xgb

import gnn
import windows as win

META_COLUMNS = ["tx_id", "timestamp", "customer_id", "terminal_id", "label"]
# xgboost's name of the metric early stopping watches, and ours.
STOPPING_METRIC = "aucpr"
STOPPING_METRIC_NAME = "validation average precision (xgboost aucpr)"
# XGBoost's settings (the seed and the thread count are added per run).
XGB_PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": ["auc", STOPPING_METRIC],
    "tree_method": "hist",
    "max_depth": 6,
    "eta": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 2,
    "lambda": 1.0,
}
# Rounds at most, and rounds without a better validation average precision before stopping.
MAX_ROUNDS, EARLY_STOPPING = 600, 40


def log(message, quiet=False):
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def parse_time(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_features(path):
    """The features CSV written by `npm run features`: meta columns, then one column per feature. An empty
    label is read as −1 (no label: history only)."""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header[: len(META_COLUMNS)] != META_COLUMNS:
            raise SystemExit(f"{path}: expected the columns {', '.join(META_COLUMNS)} first (written by npm run features)")
        names = header[len(META_COLUMNS):]
        times, labels, ids, rows = [], [], [], []
        for record in reader:
            ids.append(record[0])
            times.append(parse_time(record[1]))
            labels.append(int(record[4]) if record[4] != "" else -1)
            rows.append([float(v) for v in record[len(META_COLUMNS):]])
    if not rows:
        raise SystemExit(f"{path}: no rows")
    return names, np.array(ids), np.array(times), np.array(labels, dtype=np.int32), np.array(rows, dtype=np.float64)


def auc_roc(y, s):
    """Area under the ROC curve with ties handled by average ranks."""
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    positives = y.sum()
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(y, s, weights=None):
    """Average precision (area under the precision-recall curve, step-wise, as scikit-learn computes it), with
    optional row weights (a bootstrap resample's counts)."""
    order = np.argsort(-s, kind="mergesort")
    w = np.ones(len(s)) if weights is None else np.asarray(weights, dtype=np.float64)[order]
    y_sorted = y[order] * w
    s_sorted = s[order]
    positives = y_sorted.sum()
    if positives == 0:
        return float("nan")
    # Group tied scores: precision and recall are evaluated at the end of each tie group.
    distinct = np.r_[np.nonzero(np.diff(s_sorted))[0], len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[distinct]
    predicted = np.cumsum(w)[distinct]
    # Rows of weight 0 at the top predict nothing: no precision there, and no recall gained either.
    precision = np.divide(tp, predicted, out=np.zeros(len(tp)), where=predicted > 0)
    recall = tp / positives
    previous_recall = np.r_[0, recall[:-1]]
    return float(np.sum((recall - previous_recall) * precision))


def precision_at(y, s, k):
    k = min(k, len(s))
    top = np.argsort(-s, kind="mergesort")[:k]
    return float(y[top].mean()) if k else float("nan")


def metrics(y, s):
    return {
        "rows": int(len(y)),
        "frauds": int(y.sum()),
        "auc_roc": auc_roc(y, s),
        "average_precision": average_precision(y, s),
        "precision_at_100": precision_at(y, s, 100),
    }


def choose_thresholds(y, s, review_share, decline_precision):
    """Decline: the lowest validation score above which precision still reaches `decline_precision` (counted
    on at least 20 flagged transactions; 0.99 when no cut does). Review: the band just below decline that
    holds `review_share` of the validation transactions, so the review queue has the same size whatever the
    fraud rate."""
    order = np.argsort(-s, kind="mergesort")
    ranked = s[order]
    tp = np.cumsum(y[order])
    precision = tp / np.arange(1, len(s) + 1)
    decline = 0.99
    ok = np.nonzero(precision >= decline_precision)[0]
    deep = ok[ok >= 19]
    if len(deep):
        decline = float(ranked[deep.max()])
    declined = int(np.sum(s >= decline))
    review = float(ranked[min(declined + int(round(review_share * len(s))), len(s) - 1)]) if len(s) else 0.5
    review = min(review, decline)
    return {"review": round(review, 6), "decline": round(decline, 6)}


def threshold_note(y, s, thresholds, decline_precision):
    """What the decline threshold is: the precision target met on validation, or the 0.99 fallback (no cut of at
    least 20 flagged transactions reached it), said so the card never passes the fallback off as a fitted cut."""
    order = np.argsort(-s, kind="mergesort")
    precision = np.cumsum(y[order]) / np.arange(1, len(s) + 1)
    reached = bool(np.any(precision[19:] >= decline_precision))
    flagged = s >= thresholds["decline"]
    n = int(flagged.sum())
    if not reached:
        return (
            f"precision target {decline_precision:g} unreachable on validation (no cut flagging at least 20 transactions reaches it): "
            f"decline falls back to 0.99, which flags {n:,} validation transactions"
        )
    return f"decline keeps validation precision {float(y[flagged].mean()):.3f} (target {decline_precision:g}) over {n:,} flagged transactions"


class XgbProgress(xgb.callback.TrainingCallback):
    """A progress line every `every` seconds: the round, the validation `metric` with its best so far, and an
    ETA (ml/protocol.py's baselines use it too, named and on their own metric)."""

    def __init__(self, rounds, log_line, every=5.0, name="xgboost", metric=STOPPING_METRIC):
        self.rounds, self.log_line, self.every, self.name, self.metric = rounds, log_line, every, name, metric
        self.started = self.last = time.time()

    def after_iteration(self, model, epoch, evals_log):
        now = time.time()
        if now - self.last >= self.every or epoch + 1 == self.rounds:
            self.last = now
            history = evals_log.get("valid", {}).get(self.metric, [])
            metric = ""
            if history:
                best = int(np.argmax(history))
                metric = f": valid {self.metric} {history[-1]:.4f} (best {history[best]:.4f} at round {best + 1})"
            self.log_line(f"  {self.name} round {epoch + 1}/{self.rounds}{metric}, {now - self.started:.0f} s, {gnn.eta(epoch + 1, self.rounds, now - self.started)} at most")
        return False


def fit_xgboost(params, dtrain, dvalid, rounds, early_stopping, log_line):
    """XGBoost on `dtrain`, stopping early on the validation window's average precision. Returns the booster cut
    to its best round and the per-round validation history ({"aucpr": [...], "auc": [...]}).

    xgboost's own early stopping watches the LAST metric of `eval_metric` unless told which: the callback
    names it, so the order of the list does not matter."""
    history = {}
    stopping = xgb.callback.EarlyStopping(rounds=early_stopping, metric_name=STOPPING_METRIC, data_name="valid", maximize=True)
    booster = xgb.train(
        params, dtrain, num_boost_round=rounds, evals=[(dvalid, "valid")], evals_result=history,
        callbacks=[stopping, XgbProgress(rounds, log_line)], verbose_eval=False,
    )
    best = booster.best_iteration
    return booster[: best + 1], history["valid"]


def refit_xgboost(params, dtrain, rounds, log_line):
    """XGBoost on `dtrain` for exactly `rounds` rounds (the number chosen on validation)."""
    return xgb.train(params, dtrain, num_boost_round=rounds, callbacks=[XgbProgress(rounds, log_line)], verbose_eval=False)


# The stack is published only when it beats the better model alone in at least this share of the validation
# window's day-block bootstrap resamples (a one-sided 95% test): a lead within the window's sampling noise is no lead.
STACK_CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 200


def stack_win_share(labels, stacked, single, times, resamples=BOOTSTRAP_RESAMPLES, seed=0):
    """The share of bootstrap resamples of the validation window's days (whole UTC days drawn with replacement:
    frauds come in bursts, so rows of a day are not independent) in which the stack's AP beats the single
    model's."""
    _, day_of = np.unique(np.floor(times / 86400), return_inverse=True)
    n_days = day_of.max() + 1
    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(resamples):
        weights = np.bincount(rng.integers(0, n_days, n_days), minlength=n_days)[day_of]
        wins += average_precision(labels, stacked, weights) > average_precision(labels, single, weights)
    return wins / resamples


def win_share_note(ap):
    """The bootstrap's verdict for the log and the card ('' when the stack did not lead at all)."""
    share = ap.get("stack_win_share")
    if share is None:
        return ""
    return f"; the stack led in {share:.0%} of {BOOTSTRAP_RESAMPLES} day-block bootstrap resamples (needs {STACK_CONFIDENCE:.0%})"


def choose_combiner(xgb_margin, gnn_logit, labels, times):
    """The ensemble, or the better model alone, whichever is better on validation.

    The stack's validation AP is cross-fitted (fitted on one half of the window in time, scored on the other,
    both ways), so it is not flattered by being scored on the rows it was fitted on. It is kept only when it
    beats the better single model, and does so in at least STACK_CONFIDENCE of the window's day-block bootstrap
    resamples; the stack published is then fitted on the whole window. A single model is published as a stack
    with weight 1 on its log-odds and 0 on the other's, which serves exactly its score."""
    margins = np.c_[xgb_margin, gnn_logit]
    singles = {"xgboost": average_precision(labels, xgb_margin), "graphsage": average_precision(labels, gnn_logit)}
    half = times < np.median(times)
    oof = np.zeros(len(labels))
    for fit_on in (half, ~half):
        if labels[fit_on].sum() == 0 or labels[fit_on].sum() == fit_on.sum():
            oof = None
            break
        stacker = gnn.fit_stacker(margins[fit_on], labels[fit_on])
        oof[~fit_on] = gnn.stack(stacker, margins[~fit_on])
    # None (JSON null) when a half of the window has no fraud (or only frauds) to fit a stack on.
    stacked = average_precision(labels, oof) if oof is not None else None
    best_single = max(singles, key=singles.get)
    single_margin = xgb_margin if best_single == "xgboost" else gnn_logit
    share = stack_win_share(labels, oof, single_margin, times) if stacked is not None and stacked > singles[best_single] else None
    validation = {"stack_cross_fitted": stacked, **singles, "stack_win_share": share}
    if share is not None and share >= STACK_CONFIDENCE:
        return {"chosen": "stack", **gnn.fit_stacker(margins, labels), "validationAveragePrecision": validation}
    weights = [1.0, 0.0] if best_single == "xgboost" else [0.0, 1.0]
    return {"chosen": best_single, "weights": weights, "bias": 0.0, "validationAveragePrecision": validation}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Train the fraud model (XGBoost, GraphSAGE and their ensemble) on replayed feature vectors.",
        epilog="Usually run through `npm run train` (ml/train.ts), which writes --features and --graph first. Windows: ml/windows.py.",
    )
    parser.add_argument("--features", required=True, help="feature vectors from npm run features")
    parser.add_argument("--graph", required=True, help="GraphSAGE inputs from npm run features --graph (same rows)")
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--version", help="model version (default: fraud-<UTC date>-<hash of the model files>)")
    parser.add_argument("--feedback-delay-days", type=float, default=7.0, help="days before a label is known (default 7)")
    parser.add_argument("--until", help="train as of this date, YYYY-MM-DD: rows from it on are ignored, and labels of the last --feedback-delay-days before it are not yet known (default: every row and label in the file)")
    parser.add_argument("--warmup-days", type=float, default=30.0, help="skip the start while the 30-day windows fill (default 30)")
    parser.add_argument("--valid-days", type=float, default=14.0, help="validation: the last N days of usable labels (default 14)")
    parser.add_argument("--test-days", type=float, default=0.0, help="hold out the last N labelled days from everything and measure the published models on them (default 0: none)")
    parser.add_argument("--no-refit", action="store_true", help="publish the selection models instead of refitting on every usable label")
    parser.add_argument("--max-rounds", type=int, default=MAX_ROUNDS, help=f"XGBoost rounds at most (default {MAX_ROUNDS})")
    parser.add_argument("--early-stopping", type=int, default=EARLY_STOPPING, help=f"XGBoost rounds without a better validation average precision before stopping (default {EARLY_STOPPING})")
    parser.add_argument("--gnn-epochs", type=int, default=12, help="GraphSAGE epochs at most (default 12; it stops after 3 without gain)")
    parser.add_argument("--gnn-hidden", type=int, default=32, help="GraphSAGE hidden units (default 32)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help=f"threads for xgboost and torch (default: the CPUs, {os.cpu_count()})")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--review-share", type=float, default=0.01, help="share of transactions in the review band, below decline (default 0.01)")
    parser.add_argument("--decline-precision", type=float, default=0.9, help="validation precision the decline threshold keeps (default 0.9)")
    parser.add_argument("--golden-rows", type=int, default=300, help="rows of golden predictions for the parity tests")
    parser.add_argument("--source", default="", help="where the transactions came from, for the manifest and card")
    parser.add_argument("--amount-scale", required=True, help="the features' amount scale (lambdas/fraud/usd.ts AMOUNT_SCALE, passed by npm run train), for the manifest")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if args.threads < 1:
        raise SystemExit("--threads must be at least 1")
    started = time.time()
    say = lambda line: log(line, args.quiet)

    names, ids, times, labels, x = read_features(args.features)
    until = win.parse_date(args.until, "--until") if args.until else None
    say(f"read {len(labels):,} vectors with {len(names)} features ({int((labels == 1).sum()):,} frauds, {int((labels < 0).sum()):,} without a label)")
    windows, bounds = win.plan(
        times, labels, args.feedback_delay_days, warmup_days=args.warmup_days, valid_days=args.valid_days,
        test_days=args.test_days, until=until,
    )
    for line in win.describe(windows, bounds, labels):
        say(f"  {line}")
    fit, valid, refit, test = windows["fit"], windows["valid"], windows["refit"], windows["test"]
    has_test = bool(test.any())

    matrix = lambda mask: xgb.DMatrix(x[mask], label=labels[mask], missing=np.nan, feature_names=names, nthread=args.threads)
    params = {**XGB_PARAMS, "seed": args.seed, "nthread": args.threads}
    say(f"[selection] xgboost on the fit window, early stopping on {STOPPING_METRIC_NAME} after {args.early_stopping} rounds without gain")
    selected, history = fit_xgboost(params, matrix(fit), matrix(valid), args.max_rounds, args.early_stopping, say)
    trees = selected.num_boosted_rounds()
    stopped_at = len(history[STOPPING_METRIC])
    say(f"  xgboost: {trees} trees (validation aucpr {history[STOPPING_METRIC][trees - 1]:.4f}; ran {stopped_at} rounds)")
    margin = lambda booster, rows: booster.predict(xgb.DMatrix(rows, missing=np.nan, feature_names=names, nthread=args.threads), output_margin=True).astype(np.float64)
    xgb_valid = margin(selected, x[valid])

    layout, graph_rows = gnn.load_graph(args.graph, len(labels))
    say(f"[selection] graphsage on the fit window: {args.gnn_epochs} epochs at most, best validation epoch kept")
    gnn_selected = gnn.train(
        layout, graph_rows, labels, fit, valid, average_precision, seed=args.seed, epochs=args.gnn_epochs,
        hidden=args.gnn_hidden, threads=args.threads, log=say,
    )
    gnn_valid = gnn.logits(gnn_selected.model, gnn.Inputs(layout, graph_rows[valid], gnn_selected.mean, gnn_selected.std))

    combiner = choose_combiner(xgb_valid, gnn_valid, labels[valid], times[valid])
    ap = combiner["validationAveragePrecision"]
    say(
        f"  combiner: {combiner['chosen']} (validation AP: stack {'n/a' if ap['stack_cross_fitted'] is None else format(ap['stack_cross_fitted'], '.4f')} cross-fitted, "
        f"xgboost {ap['xgboost']:.4f}, graphsage {ap['graphsage']:.4f}{win_share_note(ap)}): "
        f"{combiner['weights'][0]:.3f}·xgboost + {combiner['weights'][1]:.3f}·graphsage + {combiner['bias']:.3f}"
    )
    ens_valid = gnn.stack(combiner, np.c_[xgb_valid, gnn_valid])
    thresholds = choose_thresholds(labels[valid], ens_valid, args.review_share, args.decline_precision)
    decline_note = threshold_note(labels[valid], ens_valid, thresholds, args.decline_precision)
    say(f"thresholds: {decline_note}")
    sigmoid = lambda m: 1 / (1 + np.exp(-m))

    if args.no_refit:
        booster, graph_model = selected, gnn_selected
        say("[refit] off (--no-refit): publishing the selection models")
    else:
        say(f"[refit] xgboost, {trees} trees, on every usable label ({int(refit.sum()):,} rows)")
        booster = refit_xgboost(params, matrix(refit), trees, say)
        say(f"[refit] graphsage, {gnn_selected.epochs} epochs, on the same rows")
        graph_model = gnn.train(
            layout, graph_rows, labels, refit, None, average_precision, seed=args.seed, epochs=gnn_selected.epochs,
            hidden=args.gnn_hidden, threads=args.threads, log=say,
        )

    graph_logits = lambda model, mask: gnn.logits(model.model, gnn.Inputs(layout, graph_rows[mask], model.mean, model.std))
    os.makedirs(args.out, exist_ok=True)
    data_hash = hashlib.sha256(open(args.features, "rb").read()).hexdigest()[:12]
    booster.save_model(os.path.join(args.out, "xgboost.json"))
    with open(os.path.join(args.out, "graphsage.json"), "w") as handle:
        json.dump(gnn.export_weights(graph_model.model, layout, names, graph_model.mean, graph_model.std), handle)
        handle.write("\n")
    # The version names the models themselves: another training run (other data, code or seed) gets another one.
    model_hash = hashlib.sha256()
    for name in ("xgboost.json", "graphsage.json"):
        with open(os.path.join(args.out, name), "rb") as handle:
            model_hash.update(handle.read())
    stack_only = {"weights": combiner["weights"], "bias": combiner["bias"]}
    model_hash.update(json.dumps(stack_only, sort_keys=True).encode())
    version = args.version or f"fraud-{dt.datetime.now(dt.timezone.utc):%Y%m%d}-{model_hash.hexdigest()[:12]}"

    result = {
        "version": version,
        # The selection models on validation: how the settings were chosen. XGBoost and GraphSAGE were not
        # trained on it; the stack was fitted on it (its cross-fitted AP is in the manifest's ensemble).
        "valid": {
            "xgboost": metrics(labels[valid], sigmoid(xgb_valid)),
            "graphsage": metrics(labels[valid], sigmoid(gnn_valid)),
            "ensemble": metrics(labels[valid], ens_valid),
        },
    }
    if has_test:
        xgb_test, gnn_test = margin(booster, x[test]), graph_logits(graph_model, test)
        result["test"] = {
            "xgboost": metrics(labels[test], sigmoid(xgb_test)),
            "graphsage": metrics(labels[test], sigmoid(gnn_test)),
            "ensemble": metrics(labels[test], gnn.stack(combiner, np.c_[xgb_test, gnn_test])),
        }
    with open(os.path.join(args.out, "metrics.json"), "w") as handle:
        json.dump(result, handle, indent=2, allow_nan=False)
        handle.write("\n")

    manifest = {
        "version": version,
        "createdAt": win.iso(time.time()),
        "features": names,
        "amountScale": args.amount_scale,
        "feedbackDelayDays": args.feedback_delay_days,
        "models": {"xgboost": "xgboost.json", "graphsage": "graphsage.json"},
        "ensemble": {
            "kind": "logistic-stack",
            "inputs": ["xgboost", "graphsage"],
            "weights": combiner["weights"],
            "bias": combiner["bias"],
            # The served GraphSAGE's mean log-odds on validation: the neighbourhood's reason weight is measured from it.
            "graphsageBaseline": float(graph_logits(graph_model, valid).mean()),
            # "stack", or the model published alone because the stack did not beat it on validation.
            "chosen": combiner["chosen"],
            "validationAveragePrecision": combiner["validationAveragePrecision"],
        },
        "thresholds": thresholds,
        "windows": {**win.as_manifest(bounds), "counts": win.counts(windows, labels)},
        "training": {
            "refit": not args.no_refit,
            "stoppingMetric": STOPPING_METRIC,
            "trees": trees,
            "roundsRun": stopped_at,
            "graphsageEpochs": gnn_selected.epochs,
            "seed": args.seed,
            "reviewShare": args.review_share,
            "declinePrecision": args.decline_precision,
            "declineThreshold": decline_note,
        },
        "data": {"source": args.source, "rows": int(len(labels)), "frauds": int((labels == 1).sum()), "unlabelled": int((labels < 0).sum()), "features_sha256_12": data_hash},
        "params": {k: v for k, v in params.items() if k != "nthread"},
        "trees": trees,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=2, allow_nan=False)
        handle.write("\n")

    # Golden predictions for the TypeScript parity tests: held-out rows (test, else validation), with and
    # without missing values, frauds among them.
    rng = np.random.default_rng(args.seed)
    pool = np.nonzero(test if has_test else valid)[0]
    with_missing = pool[np.isnan(x[pool]).any(axis=1)]
    fraud_rows = pool[labels[pool] == 1]
    pick = np.unique(
        np.concatenate(
            [
                rng.choice(pool, size=min(args.golden_rows // 2, len(pool)), replace=False),
                rng.choice(with_missing, size=min(args.golden_rows // 4, len(with_missing)), replace=False),
                rng.choice(fraud_rows, size=min(args.golden_rows // 4, len(fraud_rows)), replace=False),
            ]
        )
    )
    golden_x = x[pick]
    golden_xgb = margin(booster, golden_x)
    golden_gnn = gnn.logits(graph_model.model, gnn.Inputs(layout, graph_rows[pick], graph_model.mean, graph_model.std))
    golden = {
        "version": version,
        "features": names,
        "rows": [[None if math.isnan(v) else float(v) for v in row] for row in golden_x],
        "xgboost": [float(p) for p in booster.predict(xgb.DMatrix(golden_x, missing=np.nan, feature_names=names))],
        # GraphSAGE's inputs are the float32 graph rows torch read; its log-odds come from torch (float32).
        "graph": [gnn.golden_inputs(layout, row) for row in graph_rows[pick]],
        "graphsage": [float(v) for v in golden_gnn],
        "ensemble": [float(v) for v in gnn.stack(combiner, np.c_[golden_xgb, golden_gnn])],
    }
    with open(os.path.join(args.out, "golden.json"), "w") as handle:
        json.dump(golden, handle)
        handle.write("\n")

    write_card(args, manifest, result, layout, names, labels, data_hash)
    line = lambda m: f"AUC ROC {m['auc_roc']:.4f}, average precision {m['average_precision']:.4f}, precision@100 {m['precision_at_100']:.2f}"
    for window in ("valid", "test"):
        for name in ("xgboost", "graphsage", "ensemble") if window in result else ():
            say(f"{window} window, {name}{' (selection models)' if window == 'valid' else ''}: {line(result[window][name])}")
    say(f"thresholds (from validation): review {thresholds['review']} decline {thresholds['decline']}")
    say(f"wrote {args.out} ({version}) in {time.time() - started:.1f} s")


def write_card(args, manifest, result, layout, names, labels, data_hash):
    """MODEL_CARD.md: what was trained on what, how it was chosen, and how it did."""
    w, t, e = manifest["windows"], manifest["training"], manifest["ensemble"]
    line = lambda m: f"AUC ROC {m['auc_roc']:.4f}, average precision {m['average_precision']:.4f}, precision@100 {m['precision_at_100']:.2f}"
    ap = e["validationAveragePrecision"]
    combiner = (
        f"a logistic stack of their log-odds fitted on validation ({e['weights'][0]:.3f}·xgboost + {e['weights'][1]:.3f}·graphsage + {e['bias']:.3f})"
        if e["chosen"] == "stack"
        else f"**{e['chosen']} alone**: the stack did not beat it on validation with confidence"
    )
    n = lambda name: f" ({w['counts'][name]['rows']:,} rows, {w['counts'][name]['frauds']:,} frauds)" if name in w["counts"] else ""
    windows = [
        f"  - fit (selection models): {w['fit'][0]} to {w['fit'][1]}{n('fit')};",
        f"  - validation: {w['valid'][0]} to {w['valid'][1]}{n('valid')} (after a {args.feedback_delay_days:g}-day gap: the feedback delay);",
        f"  - refit (published models): {w['refit'][0]} to {w['refit'][1]}{n('refit')}, every usable label;" if t["refit"] else "  - no refit (--no-refit): the selection models are published;",
    ]
    if w["test"]:
        windows.append(f"  - test (held out from everything): {w['test'][0]} to {w['test'][1]}{n('test')};")
    windows.append(
        f"  - labels known until {w['labelsKnownUntil']}" + (f" (as of --until {w['until']})" if w["until"] else "")
        + f"; {w['unlabelledRows']:,} rows without a usable label (none given, after --until, or within the feedback delay of it) were history only."
    )
    windows += [f"  - **warning:** {warning}" for warning in w["warnings"]]
    sections = [
        f"# Fraud model {manifest['version']}\n",
        f"- **Models:** XGBoost `binary:logistic`, {t['trees']} trees (max depth {manifest['params']['max_depth']}, eta {manifest['params']['eta']}), "
        f"early stopping on validation average precision (xgboost `{STOPPING_METRIC}`; best round {t['trees']} of {t['roundsRun']} run); "
        f"GraphSAGE (2 layers, mean aggregator, {args.gnn_hidden} hidden units, {layout['k']} most recent neighbours per node) on the "
        f"customer-terminal graph with devices where present, {t['graphsageEpochs']} epochs (its best validation epoch); {combiner}.",
        f"- **Combiner choice (validation average precision):** stack {'n/a' if ap['stack_cross_fitted'] is None else format(ap['stack_cross_fitted'], '.4f')} (cross-fitted), XGBoost {ap['xgboost']:.4f}, GraphSAGE {ap['graphsage']:.4f}{win_share_note(ap)}: chosen **{e['chosen']}**.",
        f"- **Features:** {len(names)} from `lambdas/fraud/features.ts` (see docs/fraud-ml.md); amounts in US dollars at the reference rates of `lambdas/fraud/usd.ts`; missing values stay missing.",
        f"- **Data:** {args.source + ': ' if args.source else ''}the file holds {len(labels):,} transactions ({int((labels == 1).sum()):,} labelled fraud, "
        f"{int((labels < 0).sum()):,} with no label); the windows below say which of them trained; features sha256 {data_hash}.",
        "- **Windows** (feedback delay {:g} days):\n{}".format(args.feedback_delay_days, "\n".join(windows)),
        f"- **Validation** (selection models; the stack was fitted here, so its row is in-sample):\n  - ensemble: {line(result['valid']['ensemble'])};\n  - XGBoost: {line(result['valid']['xgboost'])};\n  - GraphSAGE: {line(result['valid']['graphsage'])}.",
    ]
    if "test" in result:
        tt = result["test"]
        sections.append(
            f"- **Test window** ({tt['ensemble']['rows']:,} rows, {tt['ensemble']['frauds']} frauds; published models):\n"
            f"  - ensemble: {line(tt['ensemble'])};\n  - XGBoost alone: {line(tt['xgboost'])};\n  - GraphSAGE alone: {line(tt['graphsage'])}."
        )
    sections += [
        f"- **Thresholds (from validation):** review ≥ {manifest['thresholds']['review']} (the next {t['reviewShare']:g} of validation transactions below decline), "
        f"decline ≥ {manifest['thresholds']['decline']}: {t['declineThreshold']}.",
        "- **Intended use:** a risk score per card payment before authorisation, with a human review queue.",
        "- **Limits:** trained on the data above only; scores shift when traffic does. Retrain on your own history with `npm run train`.",
    ]
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as handle:
        handle.write("\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
