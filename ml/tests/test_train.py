"""Tests of ml/train.py's choices and ml/windows.py (stdlib unittest; run: /usr/bin/python3 -m unittest discover -s ml/tests -v)."""
import os
import sys
import unittest

import numpy as np
import xgboost as xgb

ML = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ML)

import train  # noqa: E402
import windows  # noqa: E402

DAY = windows.DAY


def synthetic(seed, n=4000):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    logit = -4 + 1.5 * x[:, 0] + np.where(x[:, 1] > 1.5, 2.5, 0) + 0.8 * x[:, 2] * x[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


class EarlyStopping(unittest.TestCase):
    def test_stops_on_validation_average_precision_whatever_the_metric_order(self):
        # Seed 2 is a data set on which validation AUC and AP peak at different rounds (checked below), so
        # stopping on the wrong metric would pick another round.
        x, y = synthetic(2)
        dtrain, dvalid = xgb.DMatrix(x[:2500], label=y[:2500]), xgb.DMatrix(x[2500:], label=y[2500:])
        for order in (["aucpr", "auc"], ["auc", "aucpr"]):
            params = {"objective": "binary:logistic", "eval_metric": order, "tree_method": "hist", "max_depth": 4, "eta": 0.1, "seed": 1, "nthread": 1}
            booster, history = train.fit_xgboost(params, dtrain, dvalid, 300, 20, lambda line: None)
            best_ap = int(np.argmax(history["aucpr"]))
            best_auc = int(np.argmax(history["auc"]))
            self.assertNotEqual(best_ap, best_auc, "precondition: the two metrics peak at different rounds")
            self.assertEqual(booster.num_boosted_rounds(), best_ap + 1, f"eval_metric {order}")
            # It ran until 20 rounds without a better AP, no further.
            self.assertEqual(len(history["aucpr"]), best_ap + 1 + 20)
            # The booster kept is the best round's: its validation aucpr is the best recorded.
            booster.set_param({"eval_metric": "aucpr"})
            evaluated = dict(part.split(":") for part in booster.eval(dvalid, "valid").split("\t")[1:])
            self.assertAlmostEqual(float(evaluated["valid-aucpr"]), history["aucpr"][best_ap], places=5)


class Combiner(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(5)
        self.n = 20000
        self.times = np.sort(rng.uniform(0, 14 * DAY, self.n))
        self.a, self.b = rng.normal(size=self.n), rng.normal(size=self.n)
        self.y = (rng.random(self.n) < 1 / (1 + np.exp(-(-5 + 1.5 * self.a + 1.5 * self.b)))).astype(int)

    def test_stacks_two_complementary_models(self):
        combiner = train.choose_combiner(1.5 * self.a, 1.5 * self.b, self.y, self.times)
        self.assertEqual(combiner["chosen"], "stack")
        ap = combiner["validationAveragePrecision"]
        self.assertGreater(ap["stack_cross_fitted"], max(ap["xgboost"], ap["graphsage"]))
        self.assertGreater(min(combiner["weights"]), 0.5)

    def test_falls_back_to_the_better_model_when_the_other_adds_nothing(self):
        noise = np.random.default_rng(9).normal(size=self.n)
        combiner = train.choose_combiner(noise, 1.5 * self.a + 1.5 * self.b, self.y, self.times)
        self.assertEqual(combiner["chosen"], "graphsage")
        self.assertEqual((combiner["weights"], combiner["bias"]), ([0.0, 1.0], 0.0))
        combiner = train.choose_combiner(1.5 * self.a + 1.5 * self.b, noise, self.y, self.times)
        self.assertEqual(combiner["chosen"], "xgboost")
        self.assertEqual((combiner["weights"], combiner["bias"]), ([1.0, 0.0], 0.0))


    def test_keeps_the_better_model_when_the_stack_leads_only_within_the_noise(self):
        # The complementary models above stack with a clear lead: every resample agrees.
        combiner = train.choose_combiner(1.5 * self.a, 1.5 * self.b, self.y, self.times)
        self.assertEqual(combiner["validationAveragePrecision"]["stack_win_share"], 1.0)
        # The same lead, but found in only 90% of the resamples: not enough.
        original = train.stack_win_share
        train.stack_win_share = lambda *args, **kwargs: 0.9
        try:
            combiner = train.choose_combiner(1.5 * self.a, 1.2 * self.b, self.y, self.times)
        finally:
            train.stack_win_share = original
        ap = combiner["validationAveragePrecision"]
        self.assertGreater(ap["stack_cross_fitted"], max(ap["xgboost"], ap["graphsage"]))
        self.assertEqual((combiner["chosen"], ap["stack_win_share"]), ("xgboost", 0.9))
        self.assertEqual(combiner["weights"], [1.0, 0.0])

    def test_the_win_share_is_a_day_block_bootstrap(self):
        strong = 1.5 * self.a + 1.5 * self.b
        self.assertEqual(train.stack_win_share(self.y, strong, strong, self.times), 0.0)  # a tie is no win
        self.assertEqual(train.stack_win_share(self.y, strong, self.a, self.times), 1.0)
        # A sliver of extra signal wins some resamples, not all.
        slight = strong + 0.02 * np.random.default_rng(1).normal(size=self.n)
        share = train.stack_win_share(self.y, strong, slight, self.times)
        self.assertGreater(share, 0.0)
        self.assertLess(share, 1.0)

    def test_weighted_average_precision_is_that_of_the_rows_repeated(self):
        rng = np.random.default_rng(4)
        y = (rng.random(300) < 0.2).astype(int)
        s = np.round(rng.normal(size=300) + y, 1)  # ties included
        w = rng.integers(0, 4, 300)
        repeated = np.repeat(np.arange(300), w)
        self.assertAlmostEqual(train.average_precision(y, s, w), train.average_precision(y[repeated], s[repeated]), places=12)
        self.assertEqual(train.average_precision(y, s, np.ones(300)), train.average_precision(y, s))


class Thresholds(unittest.TestCase):
    def test_the_card_says_when_the_precision_target_is_met_and_when_it_falls_back(self):
        rng = np.random.default_rng(3)
        y = (rng.random(2000) < 0.05).astype(float)
        separable = np.where(y == 1, 0.9, 0.1) + rng.random(2000) * 0.05
        t = train.choose_thresholds(y, separable, 0.01, 0.9)
        self.assertRegex(train.threshold_note(y, separable, t, 0.9), r"^decline keeps validation precision (0\.9\d\d|1\.000) \(target 0\.9\) over \d+ flagged")
        noise = rng.random(2000)
        t = train.choose_thresholds(y, noise, 0.01, 0.9)
        self.assertEqual(t["decline"], 0.99)
        self.assertRegex(train.threshold_note(y, noise, t, 0.9), r"^precision target 0\.9 unreachable on validation .*falls back to 0\.99")


class Windows(unittest.TestCase):
    def setUp(self):
        # 100 days, one transaction an hour, a fraud every 50th; the last 5 days have no label yet.
        self.times = np.arange(0, 100 * DAY, 3600.0) + 1_700_000_000 // 86400 * 86400
        self.labels = np.where(np.arange(len(self.times)) % 50 == 0, 1, 0).astype(np.int32)
        self.labels[self.times >= self.times[0] + 95 * DAY] = -1
        self.t0 = self.times[0]

    def test_windows_follow_the_labels_and_the_delay(self):
        w, b = windows.plan(self.times, self.labels, delay_days=7, warmup_days=30, valid_days=14)
        labelled_end = self.t0 + 95 * DAY
        self.assertAlmostEqual(b["labels_known_until"], labelled_end - 3600 + 1)
        # Validation: the last 14 days of labels; fit ends one delay before it; refit: everything usable.
        self.assertAlmostEqual(b["valid"][0], b["labels_known_until"] - 14 * DAY)
        self.assertAlmostEqual(b["fit"][1], b["valid"][0] - 7 * DAY)
        self.assertTrue((self.times[w["fit"]] < b["fit"][1]).all())
        self.assertTrue((self.times[w["valid"]] >= b["valid"][0]).all())
        self.assertEqual(int(w["refit"].sum()), int(((self.times >= self.t0 + 30 * DAY) & (self.labels >= 0)).sum()))
        for name in ("fit", "valid", "refit"):
            self.assertTrue((self.labels[w[name]] >= 0).all(), f"{name}: an unlabelled row is a target")
        self.assertFalse(w["test"].any())
        self.assertEqual(b["unlabelled_rows"], int((self.labels < 0).sum()))

    def test_warns_when_the_last_delay_mixes_labelled_and_unlabelled_rows(self):
        labels = self.labels.copy()
        # Days 90-94: every other legitimate row still without its label (labelling in progress).
        late = (self.times >= self.t0 + 90 * DAY) & (self.times < self.t0 + 95 * DAY) & (labels == 0)
        labels[np.nonzero(late)[0][::2]] = -1
        _, b = windows.plan(self.times, labels, delay_days=7)
        self.assertEqual(len(b["warnings"]), 1)
        self.assertIn("--until hides them", windows.describe(*windows.plan(self.times, labels, delay_days=7), labels)[-1])
        _, clean = windows.plan(self.times, self.labels, delay_days=7)
        self.assertEqual(clean["warnings"], [])

    def test_until_ignores_later_rows_and_hides_labels_not_yet_known(self):
        until = self.t0 + 60 * DAY
        w, b = windows.plan(self.times, self.labels, delay_days=7, warmup_days=10, valid_days=14, until=until)
        self.assertAlmostEqual(b["labels_known_until"], until - 7 * DAY - 3600 + 1)
        for name in ("fit", "valid", "refit"):
            self.assertTrue((self.times[w[name]] < until - 7 * DAY).all())

    def test_test_window_is_held_out_from_everything(self):
        w, b = windows.plan(self.times, self.labels, delay_days=7, warmup_days=30, valid_days=14, test_days=10)
        self.assertAlmostEqual(b["test"][0], b["labels_known_until"] - 10 * DAY)
        self.assertTrue((self.times[w["refit"]] < b["test"][0] - 7 * DAY).all())
        self.assertFalse((w["test"] & (w["refit"] | w["valid"] | w["fit"])).any())

    def test_too_little_data_says_so(self):
        with self.assertRaisesRegex(SystemExit, "not enough labelled time"):
            windows.plan(self.times, self.labels, delay_days=7, warmup_days=60, valid_days=30)
        with self.assertRaisesRegex(SystemExit, "no labelled transaction"):
            windows.plan(self.times, np.full(len(self.times), -1, dtype=np.int32), delay_days=7)


if __name__ == "__main__":
    unittest.main()
