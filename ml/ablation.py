#!/usr/bin/python3
"""Feature-group ablation of the fraud features on the handbook's protocol (ml/protocol.py).

Reads the feature vectors that `npm run features` (or `npm run train -- --work DIR`) wrote, the feature groups
(`FEATURE_GROUPS` of lambdas/fraud/features.ts, as JSON), and trains XGBoost with ml/train.py's settings:
early stopping on the validation average precision (the last 14 labelled days, after a gap of the feedback
delay), then a refit on every training label. Variants: every feature; every feature but one group, for
each group (the group's AP delta is what removing it costs); and the handbook-like subset (amount, the
customer and terminal windows, time) for reference. Each is scored on the protocol's test rows (test week
after the delay, customers known to be compromised removed: ml/protocol.py `protocol_split`).

    python3 ml/ablation.py --features features.csv --groups groups.json --cutoff 2018-07-31 [--json out.json]

Used by `npm run bench:fraud-protocol -- --ablation`. Only numpy and xgboost.
"""
import argparse
import csv
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol  # noqa: E402
import train  # noqa: E402
import windows  # noqa: E402

HANDBOOK_LIKE = ("amount", "customer_windows", "terminal_windows", "time")


def fit_and_score(x, labels, names, fit, valid, refit, test, threads, seed, log):
    """ml/train.py's XGBoost: selection with early stopping on validation AP, refit, scores of the test rows."""
    matrix = lambda mask: xgb.DMatrix(x[mask], label=labels[mask], missing=np.nan, feature_names=names, nthread=threads)
    params = {**train.XGB_PARAMS, "seed": seed, "nthread": threads}
    selected, history = train.fit_xgboost(params, matrix(fit), matrix(valid), train.MAX_ROUNDS, train.EARLY_STOPPING, log)
    rounds = selected.num_boosted_rounds()
    booster = train.refit_xgboost(params, matrix(refit), rounds, log)
    scores = booster.predict(xgb.DMatrix(x[test], missing=np.nan, feature_names=names, nthread=threads)).astype(np.float64)
    return scores, rounds, history[train.STOPPING_METRIC][rounds - 1]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Feature-group ablation on the handbook's protocol (XGBoost with ml/train.py's settings).")
    parser.add_argument("--features", required=True, help="feature vectors written by npm run features")
    parser.add_argument("--groups", required=True, help="JSON {group: [feature, ...]} (FEATURE_GROUPS)")
    parser.add_argument("--cutoff", required=True, help="labels of transactions before this day are known, YYYY-MM-DD")
    parser.add_argument("--delay-days", type=int, default=7, help="the feedback delay (default 7)")
    parser.add_argument("--test-days", type=int, default=7, help="the test window after the delay (default 7)")
    parser.add_argument("--warmup-days", type=int, default=30, help="skipped at the start while windows fill (default 30)")
    parser.add_argument("--known-days", type=int, default=7, help="how far back a training fraud makes a customer known to be compromised (default 7; 0: all)")
    parser.add_argument("--only", help="comma-separated groups to ablate (default: all)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="xgboost threads (default: the CPUs)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    say = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    started = time.time()

    names, ids, times, labels, x = train.read_features(args.features)
    with open(args.groups) as handle:
        groups = json.load(handle)
    unknown = sorted({f for fs in groups.values() for f in fs} - set(names))
    if unknown:
        raise SystemExit(f"{args.groups}: features not in {args.features}: {', '.join(unknown)}")
    if (labels < 0).any():
        raise SystemExit(f"{args.features}: the protocol needs every label in the file (it hides them itself)")
    with open(args.features, newline="") as handle:  # the customer column: the split needs it
        reader = csv.reader(handle)
        next(reader)
        customers = np.array([record[2] for record in reader])
    cutoff = windows.parse_date(args.cutoff, "--cutoff")
    split = protocol.protocol_split(times.astype(np.int64), customers, labels, cutoff, args.delay_days, args.test_days, args.warmup_days, known_days=args.known_days)
    refit, test = split["train"], split["test"]
    fit, valid = protocol.selection_windows(refit, times, cutoff, args.delay_days)
    y_test = labels[test]
    say(f"protocol: train {split['windows']['train'][0]} .. {split['windows']['train'][1]} ({int(refit.sum()):,} rows), "
        f"test {split['windows']['test'][0]} .. {split['windows']['test'][1]} ({int(test.sum()):,} rows, {int(y_test.sum())} frauds, "
        f"{int(split['removed'].sum()):,} rows of known compromised customers removed)")

    ablate = args.only.split(",") if args.only else list(groups)
    variants = [("all", names)]
    variants += [(f"without {g}", [n for n in names if n not in groups[g]]) for g in ablate]
    variants.append(("handbook-like (" + ", ".join(HANDBOOK_LIKE) + ")", [n for g in HANDBOOK_LIKE for n in groups.get(g, [])]))
    results = []
    for i, (name, kept) in enumerate(variants, start=1):
        t = time.time()
        columns = [names.index(n) for n in kept]
        scores, rounds, valid_ap = fit_and_score(x[:, columns], labels, kept, fit, valid, refit, test, args.threads, args.seed, lambda line: None)
        m = protocol.metrics(y_test, scores)
        results.append({"variant": name, "features": len(kept), "rounds": rounds, "validation_aucpr": valid_ap, **m})
        elapsed = time.time() - started
        say(f"  [{i}/{len(variants)}] {name}: AP {m['average_precision']:.4f}, AUC {m['auc_roc']:.4f} ({rounds} trees, {time.time() - t:.0f} s; "
            f"ETA {elapsed / i * (len(variants) - i):.0f} s)")
    base = results[0]["average_precision"]
    print(f"{'variant':<60} {'features':>8} {'trees':>6} {'AUC':>7} {'AP':>7} {'AP delta':>9}")
    for r in results:
        delta = r["average_precision"] - base
        r["ap_delta_vs_all"] = delta
        print(f"{r['variant']:<60} {r['features']:>8} {r['rounds']:>6} {r['auc_roc']:>7.4f} {r['average_precision']:>7.4f} {delta:>+9.4f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cutoff": args.cutoff, "windows": split["windows"], "test_rows": int(test.sum()), "test_frauds": int(y_test.sum()), "results": results}, handle, indent=2)
            handle.write("\n")
    say(f"done in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
