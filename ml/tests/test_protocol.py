"""Tests of ml/protocol.py (stdlib unittest; run: /usr/bin/python3 -m unittest discover -s ml/tests -v)."""
import contextlib
import csv
import io
import json
import os
import sys
import tempfile
import unittest
from unittest import mock

import numpy as np

ML = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ML)

import handbook  # noqa: E402
import protocol  # noqa: E402

DAY = 86400
T0 = 1522540800  # 2018-04-01T00:00:00Z, a Sunday


def reference_features(ts, cust, term, amount, label, delay_days):
    """The handbook's features, row by row, straight from pandas' rolling semantics: for row i, the time window
    w holds the rows j <= i of the same group with t_j > t_i - w; the terminal windows are rolling(D + w) minus
    rolling(D); risk = frauds / count, 0 when the count is 0."""
    n = len(ts)
    out = np.zeros((n, 15))

    def rolling(i, group, w):
        return [j for j in range(i + 1) if group[j] == group[i] and ts[j] > ts[i] - w * DAY]

    for i in range(n):
        t = ts[i]
        hour = (t % DAY) // 3600
        weekday = ((t // DAY) + 3) % 7
        row = [amount[i], float(weekday >= 5), float(hour <= 6)]
        for w in (1, 7, 30):
            js = rolling(i, cust, w)
            row += [len(js), sum(amount[j] for j in js) / len(js)]
        for w in (1, 7, 30):
            both, delay = rolling(i, term, delay_days + w), rolling(i, term, delay_days)
            count = len(both) - len(delay)
            frauds = sum(label[j] for j in both) - sum(label[j] for j in delay)
            row += [count, frauds / count if count else 0.0]
        out[i] = row
    return out


class Features(unittest.TestCase):
    def test_against_the_reference_on_random_data_with_ties(self):
        rng = np.random.default_rng(1)
        n = 500
        # few distinct seconds, so many ties in time, and times exactly whole days apart
        ts = np.sort(T0 + rng.integers(0, 70, n) * (DAY // 2) + rng.choice([0, 1, 3600 * 5], n))
        cust = rng.integers(0, 12, n)
        term = rng.integers(0, 6, n)
        amount = np.round(rng.uniform(0, 300, n), 2)
        label = (rng.random(n) < 0.2).astype(np.int64)
        for delay in (7, 3):
            got = protocol.handbook_features(ts, cust, term, amount, label, delay)
            want = reference_features(ts, cust, term, amount, label, delay)
            self.assertEqual(got.shape, (n, len(protocol.FEATURES)))
            np.testing.assert_array_equal(got[:, [1, 2, 3, 5, 7, 9, 11, 13]], want[:, [1, 2, 3, 5, 7, 9, 11, 13]])
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
        # amounts that are not whole cents take the extended-precision path
        amount3 = amount + rng.uniform(0, 0.001, n)
        np.testing.assert_allclose(protocol.handbook_features(ts, cust, term, amount3, label, 7),
                                   reference_features(ts, cust, term, amount3, label, 7), rtol=0, atol=1e-9)

    def test_window_includes_the_current_transaction_and_excludes_later_ties(self):
        # customer 0: t, t (tie), t + 1 day (the first two leave the 1-day window: it is (t - 1d, t])
        ts = np.array([T0 + 100, T0 + 100, T0 + 100 + DAY, T0 + 100 + DAY + 1])
        x = protocol.handbook_features(ts, [0, 0, 0, 0], [0, 1, 2, 3], [10.0, 20.0, 40.0, 80.0], [0, 0, 0, 0], 7)
        names = protocol.FEATURES
        nb1, avg1 = names.index("CUSTOMER_ID_NB_TX_1DAY_WINDOW"), names.index("CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW")
        nb7, avg7 = names.index("CUSTOMER_ID_NB_TX_7DAY_WINDOW"), names.index("CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW")
        self.assertEqual(x[:, nb1].tolist(), [1, 2, 1, 2])
        self.assertEqual(x[:, avg1].tolist(), [10, 15, 40, 60])
        self.assertEqual(x[:, nb7].tolist(), [1, 2, 3, 4])
        self.assertEqual(x[:, avg7].tolist(), [10, 15, 70 / 3, 37.5])

    def test_terminal_labels_count_only_after_the_delay(self):
        # terminal 0: a fraud at t; later transactions at t + 7d - 1s, t + 7d, t + 8d, t + 8d + 1s
        ts = T0 + 3600 * 12 + np.array([0, 7 * DAY - 1, 7 * DAY, 8 * DAY, 8 * DAY + 1])
        x = protocol.handbook_features(ts, [0, 1, 2, 3, 4], [0] * 5, [1.0] * 5, [1, 0, 0, 0, 0], 7)
        names = protocol.FEATURES
        nb1, risk1 = names.index("TERMINAL_ID_NB_TX_1DAY_WINDOW"), names.index("TERMINAL_ID_RISK_1DAY_WINDOW")
        nb30, risk30 = names.index("TERMINAL_ID_NB_TX_30DAY_WINDOW"), names.index("TERMINAL_ID_RISK_30DAY_WINDOW")
        # window (t_i - 7d - w, t_i - 7d]: the fraud enters at exactly t + 7d and leaves the 1-day one at t + 8d
        self.assertEqual(x[:, nb1].tolist(), [0, 0, 1, 0, 0])
        self.assertEqual(x[:, risk1].tolist(), [0, 0, 1, 0, 0])
        self.assertEqual(x[:, nb30].tolist(), [0, 0, 1, 1, 1])
        self.assertEqual(x[:, risk30].tolist(), [0, 0, 1, 1, 1])
        # a label younger than the delay never changes a feature
        flipped = protocol.handbook_features(ts, [0, 1, 2, 3, 4], [0] * 5, [1.0] * 5, [1, 0, 0, 1, 1], 7)
        np.testing.assert_array_equal(flipped, x)

    def test_weekend_and_night(self):
        # 2018-04-01 is a Sunday; 06:59:59 is night (hour 6), 07:00:00 is not; Monday is not weekend
        ts = np.array([T0 + 6 * 3600 + 3599, T0 + 7 * 3600, T0 + DAY + 3600])
        x = protocol.handbook_features(ts, [0, 1, 2], [0, 1, 2], [1, 1, 1], [0, 0, 0], 7)
        self.assertEqual(x[:, 1].tolist(), [1, 1, 0])
        self.assertEqual(x[:, 2].tolist(), [1, 0, 1])

    def test_unsorted_input_is_rejected(self):
        with self.assertRaises(ValueError):
            protocol.handbook_features([T0 + 5, T0], [0, 0], [0, 0], [1, 1], [0, 0], 7)


class Split(unittest.TestCase):
    def test_known_compromised_customers_are_removed_on_a_hand_made_example(self):
        # cut-off day 40, delay 2, test 3 days (days 42, 43, 44), warm-up 30 (training days 30..39)
        C = T0 + 40 * DAY
        rows = []   # (customer, day, label)
        frauds = {"A": 35, "B": 39, "E": 40, "F": 41, "H": 10}   # G's fraud is its own test-day row (day 42)
        for c, d in frauds.items():
            rows.append((c, d, 1))
        for c in "ABEFGHI":
            for d in (31, 42, 43, 44):
                rows.append((c, d, 1 if (c, d) == ("G", 42) else 0))
        rows.sort(key=lambda r: (r[1], r[0]))
        ts = np.array([T0 + d * DAY + 3600 for _, d, _ in rows])
        cust = np.array(["ABEFGHI".index(c) for c, _, _ in rows])
        label = np.array([l for _, _, l in rows])
        split = protocol.protocol_split(ts, cust, label, C, delay_days=2, test_days=3, warmup_days=30, start=T0)
        days = (ts - T0) // DAY
        self.assertTrue(np.array_equal(split["train"], (days >= 30) & (days < 40)))
        kept = {(rows[i][0], int(days[i])) for i in np.flatnonzero(split["test"])}
        want = set()
        for c in "EFGHI":
            for d in (42, 43, 44):
                if c == "E" and d >= 43:      # E's fraud (day 40) is known from test day 1 (day 43)
                    continue
                if c == "F" and d >= 44:      # F's fraud (day 41) is known from test day 2 (day 44)
                    continue
                want.add((c, d))
        self.assertEqual(kept, want)          # A and B (frauds in training) never; G (fraud on a test day), H (before warm-up), I kept
        self.assertEqual(int(split["removed"].sum()), 2 * 3 + 2 + 1)
        self.assertEqual([d["rows"] for d in split["days"]], [5, 4, 3])
        self.assertFalse(np.any(split["train"] & split["test"]))
        # only the training frauds of the last N days make a customer known
        short = protocol.protocol_split(ts, cust, label, C, delay_days=2, test_days=3, warmup_days=30, known_days=3, start=T0)
        kept_short = {(rows[i][0], int(days[i])) for i in np.flatnonzero(short["test"])}
        self.assertEqual(kept_short, want | {("A", 42), ("A", 43), ("A", 44)})

    def test_cutoff_inside_the_warm_up_is_rejected(self):
        with self.assertRaises(ValueError):
            protocol.protocol_split(np.array([T0, T0 + 50 * DAY]), np.array([0, 1]), np.array([0, 1]), T0 + 10 * DAY)


class Reading(unittest.TestCase):
    def test_rows_in_any_order_and_other_timestamp_forms_are_sorted_by_time_then_tx_id(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.csv")
            with open(path, "w", newline="") as f:
                f.write("scenario,tx_id,timestamp,customer_id,terminal_id,amount,currency,label\n"
                        "0,b,2018-04-01 10:00:00,c1,t1,1.50,USD,0\n"
                        "0,a,2018-04-01T10:00:00Z,c2,t1,2.00,USD,1\n"
                        "0,c,1522540800,c1,t2,3.25,USD,0\n")
            tx = protocol.read_transactions(path)
            self.assertEqual(tx["tx_id"], ["c", "a", "b"])
            self.assertEqual(tx["ts"].tolist(), [T0, T0 + 36000, T0 + 36000])
            self.assertEqual(tx["amount"].tolist(), [3.25, 2.0, 1.5])
            self.assertEqual(tx["label"].tolist(), [0, 1, 0])
            self.assertEqual(tx["customer"].tolist(), [0, 1, 0])
            with open(path, "a") as f:
                f.write("0,d,2018-04-02T00:00:00Z,c1,t1,1.00,USD,\n")
            with self.assertRaisesRegex(SystemExit, "label"):
                protocol.read_transactions(path)


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data = os.path.join(cls.tmp.name, "hb.csv")
        cfg = handbook.Config(world="classic", customers=400, terminals=800, days=75, seed=2)
        tx, _ = handbook.generate(cfg)
        handbook.write_csv(cls.data, tx, cfg)
        cls.tx = protocol.read_transactions(cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def split(self):
        return protocol.protocol_split(self.tx["ts"], self.tx["customer"], self.tx["label"],
                                       protocol.parse_date("2018-06-01", "--cutoff"))

    def write_scores(self, name, ids, drop=0, header=("tx_id", "timestamp", "label", "score", "decision", "score_gnn", "xgboost")):
        path = os.path.join(self.tmp.name, name)
        by_id = dict(zip(self.tx["tx_id"], self.tx["label"].tolist()))
        by_id["tx_not_in_test"] = 0
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for k, t in enumerate(ids[drop:]):
                w.writerow([t, "x", by_id[t], by_id[t] * 0.5 + (k % 7) / 20, "allow", 0.25, 0.75])
        return path

    def test_read_transactions_sorts_and_codes(self):
        tx = self.tx
        self.assertTrue(np.all(np.diff(tx["ts"]) >= 0))
        self.assertEqual(tx["tx_id"], sorted(tx["tx_id"]))
        self.assertEqual(tx["ts"][0] // DAY * DAY, T0)

    def test_scores_are_matched_by_tx_id_and_a_missing_row_is_an_error(self):
        split = self.split()
        ids = [t for t, keep in zip(self.tx["tx_id"], split["test"]) if keep]
        y = self.tx["label"][split["test"]]
        path = self.write_scores("s.csv", list(reversed(ids)) + ["tx_not_in_test"])
        cols = protocol.read_scores(path, ids, y)
        self.assertEqual(sorted(cols), ["score", "score_gnn"])
        # written in reverse order: the row of ids[i] was the (len - 1 - i)-th
        k = len(ids) - 1 - np.arange(len(ids))
        np.testing.assert_allclose(cols["score"], y * 0.5 + (k % 7) / 20)
        np.testing.assert_array_equal(cols["score_gnn"], np.full(len(ids), 0.25))
        missing = self.write_scores("m.csv", ids, drop=3)
        with self.assertRaisesRegex(ValueError, r"3 of the .* test rows have no score \(first: " + ids[0]):
            protocol.read_scores(missing, ids, y)
        flipped = self.write_scores("f.csv", ids)
        with self.assertRaisesRegex(ValueError, "label"):
            protocol.read_scores(flipped, ids, 1 - y)
        none = self.write_scores("n.csv", ids, header=("tx_id", "timestamp", "label", "prob", "decision", "x", "y"))
        with self.assertRaisesRegex(ValueError, "no score column"):
            protocol.read_scores(none, ids, y)

    def test_cli_reports_baselines_and_score_columns_on_the_same_rows(self):
        split = self.split()
        ids = [t for t, keep in zip(self.tx["tx_id"], split["test"]) if keep]
        scores = self.write_scores("cli.csv", ids)
        out = os.path.join(self.tmp.name, "r", "report.json")
        stdout = io.StringIO()
        # fewer rounds than the real ones (100; at most 600), to keep the test fast: the wiring is under test
        with contextlib.redirect_stdout(stdout), mock.patch.object(protocol, "PLAIN_ROUNDS", 20), \
                mock.patch.object(protocol, "TUNED_MAX_ROUNDS", 60), mock.patch.object(protocol, "TUNED_EARLY_STOPPING", 10):
            protocol.main(["--data", self.data, "--cutoff", "2018-06-01", "--scores", scores, "--json", out,
                           "--threads", "2", "--quiet"])
        text = stdout.getvalue()
        for name in ("baseline plain", "baseline tuned", "score", "score_gnn"):
            self.assertIn(name, text)
        with open(out) as f:
            report = json.load(f)
        self.assertEqual(set(report["metrics"]), {"baseline plain", "baseline tuned", "score", "score_gnn"})
        for m in report["metrics"].values():
            self.assertEqual(m["rows"], int(split["test"].sum()))
            self.assertEqual(m["frauds"], int(self.tx["label"][split["test"]].sum()))
        self.assertEqual(report["baselines"]["plain"]["rounds"], 20)
        self.assertLessEqual(report["baselines"]["tuned"]["rounds"], 60)
        self.assertEqual(report["baselines"]["plain"]["tree_method"], "exact")
        self.assertGreater(report["metrics"]["baseline plain"]["auc_roc"], 0.6)
        best = max(report["metrics"][b]["average_precision"] for b in ("baseline plain", "baseline tuned"))
        self.assertAlmostEqual(report["scores"]["score"]["ap_delta_vs_best_baseline"],
                               report["metrics"]["score"]["average_precision"] - best)
        # a missing test row fails before any training
        missing = self.write_scores("cli_missing.csv", ids, drop=1)
        with self.assertRaisesRegex(SystemExit, "have no score"):
            with contextlib.redirect_stdout(io.StringIO()):
                protocol.main(["--data", self.data, "--cutoff", "2018-06-01", "--scores", missing, "--quiet",
                               "--threads", "1"])


if __name__ == "__main__":
    unittest.main()
