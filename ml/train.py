#!/usr/bin/python3
"""Train the fraud model on replayed feature vectors (npm run features): XGBoost, GraphSAGE and their ensemble.

Usually run through `npm run train`, which replays the transactions CSV through the serving feature and graph
code first. Splits are by time, never at random:

    warm-up | train ............ | (D) | valid ........ | test ........
    windows   labels known by          early stopping,   held out: the
    fill up   the train cut-off        thresholds        metrics

Training uses only transactions whose labels are known at the train cut-off (older than the cut-off
minus the feedback delay D); both models train on the same rows, and each row's inputs hold only edges and
labels from before it (the replay). XGBoost stops early on the validation window, GraphSAGE keeps its best
validation epoch, and the ensemble (logistic stacking of the two models' log-odds) is fitted on the
validation window. The folder written holds the XGBoost model in its native JSON (loadable by xgboost itself
and by SageMaker's built-in XGBoost), the GraphSAGE weights as JSON, a manifest (features, ensemble, windows,
thresholds), the metrics of all three on the test window, a model card and golden predictions for parity tests.

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

DAY = 86400.0
META_COLUMNS = ["tx_id", "timestamp", "customer_id", "terminal_id", "label"]


def log(message, quiet=False):
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def parse_time(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def parse_date(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


def read_features(path):
    """The features CSV written by `npm run features`: meta columns, then one column per feature."""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header[: len(META_COLUMNS)] != META_COLUMNS:
            raise SystemExit(f"{path}: expected the columns {', '.join(META_COLUMNS)} first (written by npm run features)")
        names = header[len(META_COLUMNS):]
        times, labels, ids, rows = [], [], [], []
        for line, record in enumerate(reader, start=2):
            if record[4] == "":
                raise SystemExit(f"{path}:{line}: the transaction has no label; training needs labels")
            ids.append(record[0])
            times.append(parse_time(record[1]))
            labels.append(int(record[4]))
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


def average_precision(y, s):
    """Average precision (area under the precision-recall curve, step-wise, as scikit-learn computes it)."""
    order = np.argsort(-s, kind="mergesort")
    y_sorted = y[order]
    s_sorted = s[order]
    positives = y.sum()
    if positives == 0:
        return float("nan")
    # Group tied scores: precision and recall are evaluated at the end of each tie group.
    distinct = np.r_[np.nonzero(np.diff(s_sorted))[0], len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[distinct]
    predicted = distinct + 1
    precision = tp / predicted
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


def iso(seconds):
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", required=True, help="feature vectors from npm run features")
    parser.add_argument("--graph", required=True, help="GraphSAGE inputs from npm run features --graph (same rows)")
    parser.add_argument("--gnn-epochs", type=int, default=12)
    parser.add_argument("--gnn-hidden", type=int, default=32)
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--version", help="model version (default: fraud-<UTC date>-<hash of the model files>)")
    parser.add_argument("--feedback-delay-days", type=float, default=7.0)
    parser.add_argument("--warmup-days", type=float, default=30.0, help="skip the start while the windows fill")
    parser.add_argument("--train-end", help="train cut-off, YYYY-MM-DD (default: 60%% of the span after warm-up)")
    parser.add_argument("--valid-end", help="validation end and test start, YYYY-MM-DD (default: 80%%)")
    parser.add_argument("--test-end", help="test end, YYYY-MM-DD (default: the last transaction)")
    parser.add_argument("--max-rounds", type=int, default=600)
    parser.add_argument("--early-stopping", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--review-share", type=float, default=0.01, help="share of transactions in the review band, below decline")
    parser.add_argument("--decline-precision", type=float, default=0.9, help="validation precision the decline threshold keeps")
    parser.add_argument("--golden-rows", type=int, default=300)
    parser.add_argument("--source", default="", help="where the transactions came from, for the manifest and card")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    started = time.time()

    names, ids, times, labels, x = read_features(args.features)
    log(f"read {len(labels):,} vectors with {len(names)} features ({labels.sum():,} frauds)", args.quiet)
    start, end = times.min() + args.warmup_days * DAY, times.max()
    if end <= start:
        raise SystemExit(f"the data spans {(times.max() - times.min()) / DAY:.1f} days: not enough after a {args.warmup_days}-day warm-up")
    span = end - start
    train_end = parse_date(args.train_end) if args.train_end else start + 0.6 * span
    valid_end = parse_date(args.valid_end) if args.valid_end else start + 0.8 * span
    test_end = parse_date(args.test_end) + DAY if args.test_end else end + 1
    if not (start < train_end < valid_end < test_end):
        raise SystemExit("windows must be in order: warm-up end < --train-end < --valid-end < --test-end")
    delay = args.feedback_delay_days * DAY
    train = (times >= start) & (times < train_end - delay)
    valid = (times >= train_end) & (times < valid_end)
    test = (times >= valid_end) & (times < test_end)
    for name, mask in (("train", train), ("valid", valid), ("test", test)):
        if mask.sum() == 0 or labels[mask].sum() == 0:
            raise SystemExit(f"the {name} window has {mask.sum()} transactions and {labels[mask].sum()} frauds: widen it")
    log(
        f"windows: train {iso(start)}..{iso(train_end - delay)} ({train.sum():,} rows, labels known by the cut-off), "
        f"valid ..{iso(valid_end)} ({valid.sum():,}), test ..{iso(min(test_end, end))} ({test.sum():,})",
        args.quiet,
    )

    dtrain = xgb.DMatrix(x[train], label=labels[train], missing=np.nan, feature_names=names)
    dvalid = xgb.DMatrix(x[valid], label=labels[valid], missing=np.nan, feature_names=names)
    params = {
        "objective": "binary:logistic",
        "eval_metric": ["aucpr", "auc"],
        "tree_method": "hist",
        "max_depth": 6,
        "eta": 0.05,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "min_child_weight": 2,
        "lambda": 1.0,
        "seed": args.seed,
        "nthread": 2,
    }
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=args.max_rounds,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=args.early_stopping,
        verbose_eval=False if args.quiet else 50,
    )
    best = booster.best_iteration
    booster = booster[: best + 1]
    log(f"xgboost: {best + 1} trees (early stopping on validation aucpr)", args.quiet)

    margin = lambda rows: booster.predict(xgb.DMatrix(rows, missing=np.nan, feature_names=names), output_margin=True).astype(np.float64)
    xgb_valid, xgb_test = margin(x[valid]), margin(x[test])

    log(f"graphsage: {args.gnn_epochs} epochs at most, best validation epoch kept", args.quiet)
    layout, graph_rows = gnn.load_graph(args.graph, len(labels))
    model, mean, std = gnn.train(
        layout, graph_rows, labels, train, valid, average_precision, seed=args.seed, epochs=args.gnn_epochs,
        hidden=args.gnn_hidden, log=lambda line: log(line, args.quiet),
    )
    gnn_logits = lambda mask: gnn.logits(model, gnn.Inputs(layout, graph_rows[mask], mean, std))
    gnn_valid, gnn_test = gnn_logits(valid), gnn_logits(test)

    stacker = gnn.fit_stacker(np.c_[xgb_valid, gnn_valid], labels[valid])
    ens_valid = gnn.stack(stacker, np.c_[xgb_valid, gnn_valid])
    ens_test = gnn.stack(stacker, np.c_[xgb_test, gnn_test])
    log(f"ensemble: {stacker['weights'][0]:.3f}·xgboost + {stacker['weights'][1]:.3f}·graphsage + {stacker['bias']:.3f} (log-odds, fitted on validation)", args.quiet)
    thresholds = choose_thresholds(labels[valid], ens_valid, args.review_share, args.decline_precision)
    sigmoid = lambda m: 1 / (1 + np.exp(-m))

    os.makedirs(args.out, exist_ok=True)
    data_hash = hashlib.sha256(open(args.features, "rb").read()).hexdigest()[:12]
    booster.save_model(os.path.join(args.out, "xgboost.json"))
    with open(os.path.join(args.out, "graphsage.json"), "w") as handle:
        json.dump(gnn.export_weights(model, layout, names, mean, std), handle)
        handle.write("\n")
    # The version names the models themselves: another training run (other data, code or seed) gets another one.
    model_hash = hashlib.sha256()
    for name in ("xgboost.json", "graphsage.json"):
        with open(os.path.join(args.out, name), "rb") as handle:
            model_hash.update(handle.read())
    model_hash.update(json.dumps(stacker, sort_keys=True).encode())
    version = args.version or f"fraud-{dt.datetime.now(dt.timezone.utc):%Y%m%d}-{model_hash.hexdigest()[:12]}"

    scores = {
        "test": {"xgboost": sigmoid(xgb_test), "graphsage": sigmoid(gnn_test), "ensemble": ens_test},
        "valid": {"xgboost": sigmoid(xgb_valid), "graphsage": sigmoid(gnn_valid), "ensemble": ens_valid},
    }
    result = {"version": version}
    for window, mask in (("test", test), ("valid", valid)):
        result[window] = {name: metrics(labels[mask], s) for name, s in scores[window].items()}
    with open(os.path.join(args.out, "metrics.json"), "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")

    manifest = {
        "version": version,
        "createdAt": iso(time.time()),
        "features": names,
        "feedbackDelayDays": args.feedback_delay_days,
        "models": {"xgboost": "xgboost.json", "graphsage": "graphsage.json"},
        "ensemble": {
            "kind": "logistic-stack",
            "inputs": ["xgboost", "graphsage"],
            "weights": stacker["weights"],
            "bias": stacker["bias"],
            # The mean GraphSAGE log-odds on validation: the neighbourhood's reason weight is measured from it.
            "graphsageBaseline": float(gnn_valid.mean()),
        },
        "thresholds": thresholds,
        "windows": {
            "train": [iso(start), iso(train_end - delay)],
            "valid": [iso(train_end), iso(valid_end)],
            "test": [iso(valid_end), iso(min(test_end, end))],
        },
        "data": {"source": args.source, "rows": int(len(labels)), "frauds": int(labels.sum()), "features_sha256_12": data_hash},
        "params": {k: v for k, v in params.items() if k != "nthread"},
        "trees": best + 1,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=2)
        handle.write("\n")

    # Golden predictions for the TypeScript parity tests: test-window rows, with and without missing values.
    rng = np.random.default_rng(args.seed)
    test_index = np.nonzero(test)[0]
    with_missing = test_index[np.isnan(x[test_index]).any(axis=1)]
    fraud_rows = test_index[labels[test_index] == 1]
    pick = np.unique(
        np.concatenate(
            [
                rng.choice(test_index, size=min(args.golden_rows // 2, len(test_index)), replace=False),
                rng.choice(with_missing, size=min(args.golden_rows // 4, len(with_missing)), replace=False),
                rng.choice(fraud_rows, size=min(args.golden_rows // 4, len(fraud_rows)), replace=False),
            ]
        )
    )
    golden_x = x[pick]
    golden_graph = gnn.Inputs(layout, graph_rows[pick], mean, std)
    golden_xgb = margin(golden_x)
    golden_gnn = gnn.logits(model, golden_graph)
    golden = {
        "version": version,
        "features": names,
        "rows": [[None if math.isnan(v) else float(v) for v in row] for row in golden_x],
        "xgboost": [float(p) for p in booster.predict(xgb.DMatrix(golden_x, missing=np.nan, feature_names=names))],
        # GraphSAGE's inputs are the float32 graph rows torch read; its log-odds come from torch (float32).
        "graph": [gnn.golden_inputs(layout, row) for row in graph_rows[pick]],
        "graphsage": [float(v) for v in golden_gnn],
        "ensemble": [float(v) for v in gnn.stack(stacker, np.c_[golden_xgb, golden_gnn])],
    }
    with open(os.path.join(args.out, "golden.json"), "w") as handle:
        json.dump(golden, handle)
        handle.write("\n")

    t = result["test"]["ensemble"]
    line = lambda m: f"AUC ROC {m['auc_roc']:.4f}, average precision {m['average_precision']:.4f}, precision@100 {m['precision_at_100']:.2f}"
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as handle:
        handle.write(
            f"# Fraud model {version}\n\n"
            f"- **Models:** XGBoost `binary:logistic`, {best + 1} trees (max depth {params['max_depth']}, eta {params['eta']}), "
            f"early stopping on validation average precision; GraphSAGE (2 layers, mean aggregator, {args.gnn_hidden} hidden units, "
            f"{layout['k']} most recent neighbours per node) on the customer-terminal graph with devices where present, best validation epoch; "
            f"a logistic stack of their log-odds fitted on validation "
            f"({stacker['weights'][0]:.3f}·xgboost + {stacker['weights'][1]:.3f}·graphsage + {stacker['bias']:.3f}).\n"
            f"- **Features:** {len(names)} from `lambdas/fraud/features.ts` (see docs/fraud-ml.md); missing values stay missing.\n"
            f"- **Data:** {args.source + ': ' if args.source else ''}{len(labels):,} transactions, {labels.sum():,} frauds ({labels.mean():.2%}); features sha256 {data_hash}.\n"
            f"- **Windows:** train {manifest['windows']['train'][0]} to {manifest['windows']['train'][1]} (labels known by the cut-off, "
            f"feedback delay {args.feedback_delay_days:g} days), validation to {manifest['windows']['valid'][1]}, "
            f"test to {manifest['windows']['test'][1]}.\n"
            f"- **Test window** ({t['rows']:,} rows, {t['frauds']} frauds):\n"
            f"  - ensemble: {line(t)};\n"
            f"  - XGBoost alone: {line(result['test']['xgboost'])};\n"
            f"  - GraphSAGE alone: {line(result['test']['graphsage'])}.\n"
            f"- **Thresholds (from validation):** review ≥ {thresholds['review']}, decline ≥ {thresholds['decline']}.\n"
            f"- **Intended use:** a risk score per card payment before authorisation, with a human review queue.\n"
            f"- **Limits:** trained on the data above only; scores shift when traffic does. Retrain on your own history "
            f"with `npm run train`.\n"
        )
    for name in ("xgboost", "graphsage", "ensemble"):
        log(f"test window, {name}: {line(result['test'][name])}", args.quiet)
    log(f"thresholds (ensemble, from validation): review {thresholds['review']} decline {thresholds['decline']}", args.quiet)
    log(f"wrote {args.out} ({version}) in {time.time() - started:.1f} s", args.quiet)


if __name__ == "__main__":
    main()
