"""Tests of ml/handbook.py (stdlib unittest; run: /usr/bin/python3 -m unittest discover -s ml/tests -v)."""
import csv
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ML = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ML)

import handbook  # noqa: E402

HEADER = "tx_id,timestamp,customer_id,terminal_id,amount,currency,label,scenario"
SMALL = ("--customers", "300", "--terminals", "600", "--days", "40")


def run_cli(out, *args):
    return subprocess.run([sys.executable, os.path.join(ML, "handbook.py"), "--out", out, "--quiet", *args],
                          capture_output=True, text=True, check=True)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.paths = {}
        for name, args in (("a", ("--seed", "5")), ("b", ("--seed", "5")), ("c", ("--seed", "6")),
                           ("classic", ("--seed", "5", "--world", "classic"))):
            cls.paths[name] = os.path.join(cls.tmp.name, "nested", f"{name}.csv")
            run_cli(cls.paths[name], *SMALL, *args)
        with open(cls.paths["a"], encoding="utf-8", newline="") as f:
            cls.text = f.read()
        cls.rows = list(csv.DictReader(io.StringIO(cls.text)))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_same_seed_same_bytes_other_seed_or_world_differs(self):
        self.assertEqual(digest(self.paths["a"]), digest(self.paths["b"]))
        self.assertNotEqual(digest(self.paths["a"]), digest(self.paths["c"]))
        self.assertNotEqual(digest(self.paths["a"]), digest(self.paths["classic"]))

    def test_header_and_format(self):
        self.assertEqual(self.text.split("\n", 1)[0], HEADER)
        self.assertTrue(self.text.endswith("\n"))
        self.assertNotIn("\r", self.text)
        self.assertGreater(len(self.rows), 5000)
        for r in self.rows:
            self.assertRegex(r["tx_id"], r"^tx_\d{8,}$")
            self.assertRegex(r["timestamp"], r"^2018-0[45]-\d{2}T\d{2}:\d{2}:\d{2}Z$")
            self.assertRegex(r["customer_id"], r"^c_\d{5,}$")
            self.assertRegex(r["terminal_id"], r"^t_\d{5,}$")
            self.assertRegex(r["amount"], r"^(0|[1-9]\d*)\.\d\d$")
            self.assertEqual(r["currency"], "USD")
            self.assertIn(r["scenario"], ("0", "1", "2", "3"))
            self.assertEqual(r["label"], "1" if r["scenario"] != "0" else "0")

    def test_sorted_by_timestamp_then_tx_id_with_sequential_ids(self):
        keys = [(r["timestamp"], r["tx_id"]) for r in self.rows]
        self.assertEqual(keys, sorted(keys))
        self.assertEqual([r["tx_id"] for r in self.rows], [f"tx_{i:08d}" for i in range(1, len(self.rows) + 1)])
        self.assertGreaterEqual(self.rows[0]["timestamp"], "2018-04-01T00:00:00Z")
        self.assertLess(self.rows[-1]["timestamp"], "2018-05-11T00:00:00Z")

    def test_summary_on_stdout_unless_quiet_and_bad_arguments(self):
        out = os.path.join(self.tmp.name, "s.csv")
        p = subprocess.run([sys.executable, os.path.join(ML, "handbook.py"), "--out", out, "--customers", "50",
                            "--terminals", "100", "--days", "10"], capture_output=True, text=True, check=True)
        self.assertIn("fraud (label 1)", p.stdout)
        self.assertIn("compromised_card", p.stdout)
        self.assertIn("legitimate transactions", p.stderr)
        q = run_cli(out, "--customers", "50", "--terminals", "100", "--days", "10")
        self.assertEqual(q.stdout + q.stderr, "")
        bad = subprocess.run([sys.executable, os.path.join(ML, "handbook.py"), "--days", "1", "--out", os.devnull],
                             capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)


class Classic(unittest.TestCase):
    """The handbook's scenarios, checked exactly against what the generator drew."""

    @classmethod
    def setUpClass(cls):
        cls.cfg = handbook.Config(world="classic", customers=600, terminals=1200, days=60, seed=3)
        cls.tx, cls.gen = handbook.generate(cls.cfg)

    def test_map_and_legitimate_process(self):
        g, tx = self.gen, self.tx
        self.assertTrue(np.all((g.c_mean >= 5) & (g.c_mean <= 100)))
        self.assertTrue(np.allclose(g.c_std, g.c_mean / 2))
        self.assertTrue(np.all((g.c_rate >= 0) & (g.c_rate <= 4)))
        # every terminal used is within the radius of its customer
        d = np.hypot(*(g.c_xy[tx["cust"]] - g.t_xy[tx["term"]]).T)
        self.assertTrue(np.all(d < handbook.RADIUS))
        tod = tx["ts"] - g.t0 - tx["day"] * handbook.DAY
        self.assertTrue(np.all((tod > 0) & (tod < handbook.DAY)))
        self.assertEqual(int((g.n_avail[tx["cust"]] == 0).sum()), 0)

    def test_scenario_1_every_amount_over_220_is_fraud(self):
        tx = self.tx
        self.assertTrue(np.all(tx["scenario"][tx["cents"] > 22000] > 0))
        s1 = tx["scenario"] == 1
        self.assertGreater(s1.sum(), 0)
        self.assertTrue(np.all(tx["cents"][s1] > 22000))
        self.assertTrue(np.all(tx["cents"][s1] == tx["base_cents"][s1]))
        # a scenario-0 or -2 row was never over 220 before scenario 3
        self.assertFalse(np.any((tx["base_cents"] > 22000) & (tx["scenario"] == 0)))

    def test_scenario_2_compromised_terminals_for_28_days(self):
        tx, events = self.tx, self.gen.events[2]
        self.assertEqual(len(events), int(tx["day"].max()))
        covered = np.zeros(len(tx["ts"]), bool)
        for d, terms in events:
            self.assertEqual(len(set(terms)), 2)
            m = np.isin(tx["term"], terms) & (tx["day"] >= d) & (tx["day"] < d + 28)
            self.assertTrue(np.all(np.isin(tx["scenario"][m], (2, 3))), (d, terms))
            covered |= m
        self.assertGreater((tx["scenario"] == 2).sum(), 0)
        self.assertTrue(np.all(covered[tx["scenario"] == 2]))

    def test_scenario_3_a_third_of_the_compromised_customers_transactions_times_5(self):
        tx, events = self.tx, self.gen.events[3]
        s3 = tx["scenario"] == 3
        self.assertGreater(s3.sum(), 0)
        ratio = tx["cents"][s3] / np.maximum(tx["base_cents"][s3], 1)
        zero = tx["base_cents"][s3] == 0
        powers = np.log(ratio[~zero]) / np.log(5)
        self.assertTrue(np.allclose(powers, np.round(powers)) and np.all(np.round(powers) >= 1))
        self.assertTrue(np.all(tx["cents"][~s3] == tx["base_cents"][~s3]))
        covered = np.zeros(len(tx["ts"]), bool)
        for d, custs, pool, k in events:
            self.assertEqual(len(set(custs)), 3)
            m = np.isin(tx["cust"], custs) & (tx["day"] >= d) & (tx["day"] < d + 14)
            self.assertEqual(int(m.sum()), pool)
            self.assertEqual(k, pool // 3)
            covered |= m
        self.assertTrue(np.all(covered[s3]))


class Drift(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cfg = handbook.Config(world="drift", customers=2000, terminals=4000, days=120, seed=11)
        cls.tx, cls.gen = handbook.generate(cls.cfg)
        cls.y = cls.tx["scenario"] > 0

    def test_fraud_rate_in_range_and_every_scenario_present(self):
        self.assertGreater(self.y.mean(), 0.005)
        self.assertLess(self.y.mean(), 0.015)
        counts = np.bincount(self.tx["scenario"], minlength=4)
        for s in (1, 2, 3):
            self.assertGreater(counts[s], 100, handbook.SCENARIOS["drift"][s])

    def test_amount_alone_is_not_enough(self):
        cents = self.tx["cents"]
        top = cents >= np.quantile(cents, 0.99)
        self.assertLess(self.y[top].mean(), 0.5)          # the largest amounts are mostly legitimate
        self.assertGreater(int(((cents > 22000) & ~self.y).sum()), 100)   # no 220 rule

    def test_compromised_terminals_are_only_partly_fraud(self):
        tx = self.tx
        hit = total = 0
        for t, s, e, p in self.gen.events[2]:
            self.assertTrue(0.3 <= p <= 1.0)
            self.assertTrue(7 <= (e - s) // handbook.DAY <= 42)
            m = (tx["term"] == t) & (tx["ts"] >= s) & (tx["ts"] < e)
            total += int(m.sum())
            hit += int((tx["scenario"][m] == 2).sum())
        self.assertTrue(0.4 < hit / total < 0.9, hit / total)

    def test_card_fraud_is_added_and_its_multiplier_drifts_down(self):
        tx, g = self.tx, self.gen
        s3 = tx["scenario"] == 3
        compromised = {c for c, *_ in g.events[3]}
        # the customers keep spending: legitimate transactions of compromised customers during their compromise
        c, d0, length = g.events[3][0][:3]
        during = (tx["cust"] == c) & (tx["day"] >= d0) & (tx["day"] < d0 + length)
        self.assertTrue(set(np.unique(tx["cust"][s3]).tolist()) <= compromised)
        self.assertGreaterEqual(int(during.sum()), int((during & s3).sum()))
        ratio = tx["cents"][s3] / 100 / (g.c_mean[tx["cust"][s3]] * g.level(tx["cust"][s3], tx["day"][s3]))
        early = np.median(ratio[tx["day"][s3] < 40])
        late = np.median(ratio[tx["day"][s3] >= 80])
        self.assertGreater(early, 3.5)
        self.assertLess(late, 3.0)
        # some of the fraudster's transactions are outside the customer's radius
        d = np.hypot(*(g.c_xy[tx["cust"][s3]] - g.t_xy[tx["term"][s3]]).T)
        self.assertTrue(0.1 < (d >= handbook.RADIUS).mean() < 0.9)

    def test_stolen_card_amounts_overlap_legitimate_ones_and_drift(self):
        tx = self.tx
        s1 = tx["scenario"] == 1
        legit_big = (tx["scenario"] == 0) & (tx["cents"] >= 10000)
        self.assertGreater(int(legit_big.sum()), int(s1.sum()))
        early = np.median(tx["cents"][s1 & (tx["day"] < 40)])
        late = np.median(tx["cents"][s1 & (tx["day"] >= 80)])
        self.assertGreater(early, late)

    def test_sorted_and_within_the_period(self):
        ts = self.tx["ts"]
        self.assertTrue(np.all(np.diff(ts) >= 0))
        self.assertGreaterEqual(ts.min(), self.gen.t0)
        self.assertLess(ts.max(), self.gen.t0 + self.cfg.days * handbook.DAY)
        self.assertTrue(np.all(self.tx["cents"] >= 1))


if __name__ == "__main__":
    unittest.main()
