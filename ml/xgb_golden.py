#!/usr/bin/python3
"""Golden fixtures for the TypeScript XGBoost evaluator (lambdas/fraud/xgboost.ts).

Regenerate (Debian's Python, not the pyenv shim; needs python3-numpy and python3-xgboost 1.7):

    /usr/bin/python3 ml/xgb_golden.py            # writes test/fixtures/xgboost/{model,golden}.json
    /usr/bin/python3 ml/xgb_golden.py --check    # also re-predicts from the saved model.json and verifies golden.json

What it does, deterministically from --seed (default 20260105):
  * builds a synthetic binary data set of 30 features (fraud-shaped: amounts, counts, ratios, flags) with about
    15 % missing values (NaN), some missing not at random (they carry signal, so default_left matters), and
    whole blocks of columns missing in some rows (a "no history" customer has every cust_* feature missing);
  * trains a binary:logistic gbtree (up to 200 rounds, max_depth 6, early stopping on a validation split) with
    nthread=1 so the trees do not depend on the machine, and keeps only the trees up to the best iteration;
  * saves the model with Booster.save_model (xgboost's own JSON), then predicts with xgboost itself on a
    DMatrix(missing=NaN) loaded back from that file: margin (output_margin=True), probability (default) and
    Saabas contributions (pred_contribs=True, approx_contribs=True);
  * golden rows: random held-out rows, the all-missing row, rows whose values sit exactly on split thresholds
    (x == cond must go right) or are doubles just below a threshold that round to it in float32.

Only the standard library, numpy and xgboost are used. NaN is written as null in golden.json.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, '..', 'test', 'fixtures', 'xgboost')
N_FEATURES = 30
CUST_BLOCK = list(range(2, 10))  # columns that are all missing for a customer without history


def feature_names():
    names = ['amount', 'log_amount']
    names += [f'cust_{k}' for k in ('count_1d', 'count_7d', 'count_30d', 'mean_1d', 'mean_7d', 'mean_30d',
                                     'amount_ratio_30d', 'amount_z_30d')]
    names += [f'term_{k}' for k in ('count_1d', 'count_7d', 'count_30d', 'risk_1d', 'risk_7d', 'risk_30d',
                                     'count_recent_1d')]
    names += ['hour', 'is_weekend', 'is_night', 'country_mismatch', 'currency_new', 'first_seen_customer',
              'first_seen_terminal', 'first_seen_pair', 'first_seen_device']
    names += [f'noise_{i}' for i in range(N_FEATURES - len(names))]
    assert len(names) == N_FEATURES
    return names


def make_data(rng, n):
    """Synthetic fraud-shaped data: returns X (float64, NaN = missing) and y (0/1)."""
    X = np.empty((n, N_FEATURES))
    amount = np.exp(rng.normal(3.5, 1.2, n))
    X[:, 0] = np.round(amount, 2)
    X[:, 1] = np.log1p(X[:, 0])
    counts = rng.poisson([1.0, 5.0, 20.0], size=(n, 3)).astype(float)
    X[:, 2:5] = counts
    means = amount[:, None] * np.exp(rng.normal(0, 0.5, (n, 3)))
    X[:, 5:8] = means
    X[:, 8] = X[:, 0] / means[:, 2]
    X[:, 9] = rng.normal(0, 1.5, n)
    X[:, 10:13] = rng.poisson([30.0, 200.0, 800.0], size=(n, 3))
    X[:, 13:16] = rng.beta(1, 30, (n, 3))
    X[:, 16] = rng.poisson(25, n)
    hour = rng.integers(0, 24, n)
    X[:, 17] = hour
    X[:, 18] = rng.random(n) < 2 / 7
    X[:, 19] = hour < 6
    X[:, 20] = rng.random(n) < 0.1
    X[:, 21] = rng.random(n) < 0.05
    X[:, 22:26] = rng.random((n, 4)) < [0.05, 0.02, 0.2, 0.1]
    X[:, 26:] = rng.normal(0, 1, (n, N_FEATURES - 26))
    X = X.astype(float)

    # A latent fraud score with interactions, so the trees are deep and use many features.
    z = (-3.2 + 0.9 * (X[:, 8] > 2.5) + 0.6 * np.tanh(X[:, 9]) + 6.0 * X[:, 15] + 0.8 * X[:, 19] * (X[:, 0] > 80)
         + 1.2 * X[:, 20] * X[:, 25] + 0.5 * X[:, 21] + 0.7 * (X[:, 4] < 12) * (X[:, 1] > 4.5)
         + 0.4 * np.sin(X[:, 17] / 3.0) + 0.3 * X[:, 26] * X[:, 27])

    # Missing values: the whole customer block for new customers (informative), device unknown, some noise.
    no_history = rng.random(n) < 0.12
    X[np.ix_(no_history, CUST_BLOCK)] = np.nan
    z += 1.1 * no_history
    X[no_history, 23] = 1.0
    country_unknown = rng.random(n) < 0.08
    X[country_unknown, 20] = np.nan
    z += 0.5 * country_unknown
    risk_unknown = rng.random((n, 3)) < 0.1
    X[:, 13:16][risk_unknown] = np.nan
    scatter = rng.random((n, N_FEATURES)) < 0.09
    scatter[:, :2] = False  # the amount is always present
    X[scatter] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.float32)
    return X, y


def edge_rows(rng, booster, base_rows, count):
    """Rows whose values sit exactly on (or a double just below) split thresholds of the model."""
    trees = json.loads(booster.save_raw('json'))['learner']['gradient_booster']['model']['trees']
    splits = []
    for tree in trees:
        for node, left in enumerate(tree['left_children']):
            if left != -1:
                splits.append((tree['split_indices'][node], tree['split_conditions'][node]))
    rows = []
    for i in range(count):
        row = base_rows[rng.integers(len(base_rows))].copy()
        for _ in range(4):
            feature, cond = splits[rng.integers(len(splits))]
            cond32 = float(np.float32(cond))
            if i % 2 == 0:
                row[feature] = cond32  # equal to the threshold: goes right
            else:
                below = math.nextafter(cond32, -math.inf)  # < cond in float64, == cond in float32
                assert float(np.float32(below)) == cond32 and below < cond32
                row[feature] = below
        rows.append(row)
    return np.array(rows)


def to_json_row(row):
    return [None if math.isnan(v) else float(v) for v in row]


def predict_all(booster, rows):
    d = xgb.DMatrix(rows, missing=np.nan, feature_names=booster.feature_names)
    margin = booster.predict(d, output_margin=True)
    prob = booster.predict(d)
    contribs = booster.predict(d, pred_contribs=True, approx_contribs=True)
    return margin, prob, contribs


def node_means(tree, use_base_weights):
    """Expected value of each node: cover-weighted mean of its children (float32, as xgboost's FillNodeMeanValues)."""
    left, right = tree['left_children'], tree['right_children']
    hess = [np.float32(h) for h in tree['sum_hessian']]
    out = [np.float32(0)] * len(left)

    def fill(nid):
        if left[nid] == -1:
            out[nid] = np.float32(tree['split_conditions'][nid])
        elif use_base_weights:
            fill(left[nid])
            fill(right[nid])
            out[nid] = np.float32(tree['base_weights'][nid])
        else:
            r = fill(left[nid]) * hess[left[nid]]
            r = np.float32(r + fill(right[nid]) * hess[right[nid]])
            out[nid] = np.float32(r / hess[nid])
        return out[nid]

    fill(0)
    return out


def saabas(trees, row, base_margin, use_base_weights):
    contribs = np.zeros(N_FEATURES + 1, dtype=np.float32)
    for tree in trees:
        means = node_means(tree, use_base_weights)
        nid, value = 0, means[0]
        contribs[N_FEATURES] += value
        split = 0
        while tree['left_children'][nid] != -1:
            split = tree['split_indices'][nid]
            x = row[split]
            if math.isnan(x):
                nxt = tree['left_children'][nid] if tree['default_left'][nid] else tree['right_children'][nid]
            else:
                nxt = tree['left_children'][nid] if np.float32(x) < np.float32(tree['split_conditions'][nid]) \
                    else tree['right_children'][nid]
            contribs[split] += means[nxt] - value
            nid, value = nxt, means[nxt]
    contribs[N_FEATURES] += base_margin
    return contribs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seed', type=int, default=20260105)
    parser.add_argument('--out', default=OUT_DIR)
    parser.add_argument('--check', action='store_true', help='re-verify golden.json against the saved model')
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    names = feature_names()

    X, y = make_data(rng, 40000)
    n_train, n_valid = 30000, 8000
    dtrain = xgb.DMatrix(X[:n_train], label=y[:n_train], missing=np.nan, feature_names=names)
    dvalid = xgb.DMatrix(X[n_train:n_train + n_valid], label=y[n_train:n_train + n_valid], missing=np.nan,
                         feature_names=names)
    params = {
        'objective': 'binary:logistic', 'eval_metric': 'logloss', 'tree_method': 'hist', 'max_depth': 6,
        'eta': 0.04, 'min_child_weight': 3, 'subsample': 0.8, 'colsample_bytree': 0.8, 'lambda': 1.0,
        'base_score': 0.2, 'seed': args.seed, 'nthread': 1,
    }
    booster = xgb.train(params, dtrain, num_boost_round=200, evals=[(dvalid, 'valid')],
                        early_stopping_rounds=20, verbose_eval=False)
    best = booster.best_iteration
    booster = booster[: best + 1]  # keep exactly the trees predict() uses; the JSON then holds nothing extra

    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, 'model.json')
    booster.save_model(model_path)
    loaded = xgb.Booster(model_file=model_path)  # predict from what was saved, as the TS side reads it

    held_out = X[n_train + n_valid:]
    pick = rng.choice(len(held_out), 170, replace=False)
    rows = np.vstack([
        np.full((1, N_FEATURES), np.nan),  # everything missing
        held_out[np.isnan(held_out[:, CUST_BLOCK]).all(axis=1)][:9],  # customers without history
        held_out[pick],
        edge_rows(rng, loaded, held_out, 20),
    ])
    margin, prob, contribs = predict_all(loaded, rows)

    # Which node expected values reproduce xgboost's approx_contribs?
    model = json.loads(open(model_path).read())['learner']
    trees = model['gradient_booster']['model']['trees']
    base = float(model['learner_model_param']['base_score'])
    base_margin = np.float32(-math.log(1 / base - 1))
    report = {}
    for label, flag in (('cover-weighted means of leaf values', False), ('base_weights', True)):
        mine = np.array([saabas(trees, r, base_margin, flag) for r in rows[:40]])
        report[label] = float(np.abs(mine - contribs[:40]).max())

    golden = {
        'xgboost_version': xgb.__version__,
        'seed': args.seed,
        'objective': 'binary:logistic',
        'num_trees': len(trees),
        'best_iteration': best,
        'feature_names': names,
        'rows': [to_json_row(r) for r in rows],
        'margin': [float(v) for v in margin],
        'prob': [float(v) for v in prob],
        'approx_contribs': [[float(v) for v in r] for r in contribs],
    }
    with open(os.path.join(args.out, 'golden.json'), 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
        f.write('\n')

    valid_pred = booster.predict(dvalid)
    yv = y[n_train:n_train + n_valid]
    logloss = -np.mean(yv * np.log(valid_pred) + (1 - yv) * np.log(1 - valid_pred))
    sizes = {name: os.path.getsize(os.path.join(args.out, name)) for name in ('model.json', 'golden.json')}
    print(f'xgboost {xgb.__version__}: {len(trees)} trees (best iteration {best}), '
          f'{sum(len(t["left_children"]) for t in trees)} nodes, valid logloss {logloss:.4f}, '
          f'fraud rate {y.mean():.3f}, missing {np.isnan(X).mean():.3f}')
    print(f'golden: {len(rows)} rows; files {sizes}')
    for label, diff in report.items():
        print(f'approx_contribs vs node means from {label}: max abs diff {diff:.3g}')

    if args.check:
        saved = json.load(open(os.path.join(args.out, 'golden.json')))
        again = np.array([[np.nan if v is None else v for v in r] for r in saved['rows']])
        m2, p2, c2 = predict_all(xgb.Booster(model_file=model_path), again)
        assert np.array_equal(m2, np.float32(saved['margin'])), 'margin differs after reload'
        assert np.array_equal(p2, np.float32(saved['prob'])), 'prob differs after reload'
        assert np.array_equal(c2, np.float32(saved['approx_contribs'])), 'contribs differ after reload'
        print('check: golden.json reproduces from model.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
