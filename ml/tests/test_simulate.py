"""Tests of ml/simulate.py (stdlib unittest; run: /usr/bin/python3 -m unittest discover -s ml/tests -v)."""
import csv
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time
import unittest
from decimal import Decimal

ML = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ML)

import simulate  # noqa: E402

CONTRACT_HEADER = ("tx_id,timestamp,customer_id,terminal_id,amount,currency,label,device_id,country,"
                   "merchant_country,scenario")
EXPONENTS = {"USD": 2, "CAD": 2, "GBP": 2, "EUR": 2, "JPY": 0}
SMALL = dict(customers=300, terminals=60, days=30)
MID = dict(customers=2000, terminals=400, days=90)


def run_cli(out, *args):
    return subprocess.run([sys.executable, os.path.join(ML, "simulate.py"), "--out", out, "--quiet", *args],
                          capture_output=True, text=True, check=True)


def generate(**kw):
    rows, tx, sim = simulate.simulate(simulate.Config(**kw))
    return rows, tx, sim


def as_text(rows):
    return ",".join(simulate.COLUMNS) + "\n" + "\n".join(rows) + "\n"


class SmallRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "nested", "dir", "small.csv")
        t = time.perf_counter()
        run_cli(cls.path, "--customers", "300", "--terminals", "60", "--days", "30", "--seed", "7")
        cls.seconds = time.perf_counter() - t
        with open(cls.path, encoding="utf-8", newline="") as f:
            cls.text = f.read()
        cls.rows = list(csv.DictReader(io.StringIO(cls.text)))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_runs_fast_and_creates_directories(self):
        self.assertTrue(os.path.exists(self.path))
        self.assertLess(self.seconds, 10)
        self.assertGreater(len(self.rows), 1000)

    def test_header_is_exactly_the_contract(self):
        self.assertEqual(self.text.split("\n", 1)[0], CONTRACT_HEADER)
        self.assertEqual(",".join(simulate.COLUMNS), CONTRACT_HEADER)
        self.assertTrue(self.text.endswith("\n"))
        self.assertNotIn("\r", self.text)

    def test_no_columns_beyond_the_contract(self):
        # scenario is the only simulator-only column (for analysis, never a feature)
        self.assertEqual(set(self.rows[0]), set(CONTRACT_HEADER.split(",")))

    def test_ids_are_unique_and_well_formed(self):
        ids = [r["tx_id"] for r in self.rows]
        self.assertEqual(len(ids), len(set(ids)))
        for r in self.rows:
            self.assertRegex(r["tx_id"], r"^tx_\d{8,}$")
            self.assertRegex(r["customer_id"], r"^c_\d{5,}$")
            self.assertRegex(r["terminal_id"], r"^t_\d{4,}$")
            self.assertRegex(r["device_id"], r"^(d_[0-9a-f]{12})?$")

    def test_sorted_by_timestamp_then_tx_id_within_the_period(self):
        keys = [(r["timestamp"], r["tx_id"]) for r in self.rows]
        self.assertEqual(keys, sorted(keys))
        for r in self.rows:
            self.assertRegex(r["timestamp"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
        self.assertGreaterEqual(self.rows[0]["timestamp"], "2026-01-01T00:00:00Z")
        self.assertLess(self.rows[-1]["timestamp"], "2026-01-31T00:00:00Z")

    def test_amounts_are_decimals_with_the_currency_exponent(self):
        for r in self.rows:
            exp = EXPONENTS[r["currency"]]
            pattern = r"^[1-9]\d*$" if exp == 0 else r"^(0|[1-9]\d*)\.\d{%d}$" % exp
            self.assertRegex(r["amount"], pattern, r)
            self.assertGreater(Decimal(r["amount"]), 0)
            self.assertLessEqual(int(Decimal(r["amount"]) * 10 ** exp), 99_999_999)

    def test_currency_follows_the_merchant_country(self):
        cur = {"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "JP": "JPY"}
        for r in self.rows:
            self.assertEqual(cur[r["merchant_country"]], r["currency"])
            self.assertIn(r["country"], cur)

    def test_labels_and_scenarios(self):
        for r in self.rows:
            self.assertIn(r["label"], ("0", "1"))
            self.assertIn(r["scenario"], ("0", "1", "2", "3", "4"))
            self.assertEqual(r["label"] == "1", r["scenario"] != "0")

    def test_a_customer_keeps_one_billing_country(self):
        seen = {}
        for r in self.rows:
            self.assertEqual(seen.setdefault(r["customer_id"], r["country"]), r["country"])


class Determinism(unittest.TestCase):
    def test_same_seed_same_bytes_and_different_seed_different_bytes(self):
        with tempfile.TemporaryDirectory() as d:
            a, b, c = (os.path.join(d, n) for n in ("a.csv", "b.csv", "c.csv"))
            args = ("--customers", "300", "--terminals", "60", "--days", "30")
            run_cli(a, *args, "--seed", "5")
            run_cli(b, *args, "--seed", "5")
            run_cli(c, *args, "--seed", "6")
            def digest(p):
                with open(p, "rb") as f:
                    return hashlib.sha256(f.read()).hexdigest()
            self.assertEqual(digest(a), digest(b))
            self.assertNotEqual(digest(a), digest(c))

    def test_no_devices_differs_only_in_the_device_column(self):
        with tempfile.TemporaryDirectory() as d:
            a, b = (os.path.join(d, n) for n in ("with.csv", "without.csv"))
            args = ("--customers", "300", "--terminals", "60", "--days", "30", "--seed", "5")
            run_cli(a, *args)
            run_cli(b, *args, "--no-devices")
            with open(a, encoding="utf-8", newline="") as f:
                with_devices = f.read().split("\n")
            with open(b, encoding="utf-8", newline="") as f:
                without = f.read().split("\n")
        self.assertEqual(with_devices[0], CONTRACT_HEADER)
        self.assertEqual(without[0], CONTRACT_HEADER)
        self.assertEqual(len(with_devices), len(without))
        dev = simulate.COLUMNS.index("device_id")
        drop = lambda fields: fields[:dev] + fields[dev + 1:]  # noqa: E731
        self.assertTrue(any(line.split(",")[dev] for line in with_devices[1:]))
        for x, y in zip(with_devices[1:], without[1:]):
            fx, fy = x.split(","), y.split(",")
            self.assertEqual(len(fx), len(fy))
            self.assertEqual(drop(fx), drop(fy))
            if fy != [""]:
                self.assertEqual(fy[dev], "")

    def test_cli_summary_is_printed_unless_quiet(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "x.csv")
            p = subprocess.run([sys.executable, os.path.join(ML, "simulate.py"), "--out", out,
                                "--customers", "100", "--terminals", "40", "--days", "10"],
                               capture_output=True, text=True, check=True)
            self.assertIn("fraud (label 1)", p.stdout)
            self.assertIn("rows", p.stdout)
            q = run_cli(out, "--customers", "100", "--terminals", "40", "--days", "10")
            self.assertEqual(q.stdout + q.stderr, "")

    def test_bad_arguments_are_rejected(self):
        p = subprocess.run([sys.executable, os.path.join(ML, "simulate.py"), "--terminals", "5", "--quiet",
                            "--out", os.devnull], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)


class MidSizeRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rows, cls.tx, cls.sim = generate(seed=42, **MID)
        cls.parsed = list(csv.DictReader(io.StringIO(as_text(cls.rows))))

    def count(self, scenario):
        return sum(1 for r in self.parsed if r["scenario"] == str(scenario))

    def test_fraud_rate_is_about_one_percent(self):
        rate = sum(r["label"] == "1" for r in self.parsed) / len(self.parsed)
        self.assertGreater(rate, 0.003)
        self.assertLess(rate, 0.03)

    def test_every_scenario_appears(self):
        for s in (1, 2, 3, 4):
            self.assertGreater(self.count(s), 10, simulate.SCENARIOS[s])

    def test_fraud_intensity_scales_fraud(self):
        rows0, tx0, _ = generate(seed=42, fraud_intensity=0.0, **SMALL)
        self.assertEqual(int((tx0["scenario"] > 0).sum()), 0)
        _, tx3, _ = generate(seed=42, fraud_intensity=3.0, **MID)
        self.assertGreater((tx3["scenario"] > 0).mean(), 2 * (self.tx["scenario"] > 0).mean())

    def test_card_testing_is_bursts_of_small_amounts_per_card(self):
        by_card = {}
        for r in self.parsed:
            if r["scenario"] == "1":
                by_card.setdefault(r["customer_id"], []).append(r)
        self.assertTrue(by_card)
        for card, txs in by_card.items():
            small = [r for r in txs if Decimal(r["amount"]) <= (500 if r["currency"] == "JPY" else 5)]
            self.assertGreaterEqual(len(small), 4, card)

    def test_ring_cash_outs_share_mule_terminals_and_have_no_device(self):
        ring = [r for r in self.parsed if r["scenario"] == "2"]
        self.assertTrue(all(r["device_id"] == "" for r in ring))
        victims_per_terminal = {}
        for r in ring:
            victims_per_terminal.setdefault(r["terminal_id"], set()).add(r["customer_id"])
        self.assertGreaterEqual(max(len(v) for v in victims_per_terminal.values()), 5)

    def test_account_takeover_uses_devices_new_to_the_customer(self):
        seen = {}
        new, total = 0, 0
        for r in self.parsed:
            key = (r["customer_id"], r["device_id"])
            if r["scenario"] == "3":
                total += 1
                new += key not in seen
            if r["device_id"]:
                seen[key] = True
        self.assertGreater(total, 0)
        self.assertGreater(new / total, 0.1)

    def test_legitimate_look_alikes_exist(self):
        legit = [r for r in self.parsed if r["scenario"] == "0"]
        fraud_amounts = sorted(Decimal(r["amount"]) for r in self.parsed
                               if r["scenario"] == "4" and r["currency"] == "USD")
        median_outlier = fraud_amounts[len(fraud_amounts) // 2]
        # legit purchases at least as big as the median amount outlier, legit cross-border, legit night
        big_legit = sum(1 for r in legit if r["currency"] == "USD" and Decimal(r["amount"]) >= median_outlier)
        self.assertGreater(big_legit, len(fraud_amounts) // 2)
        self.assertGreater(sum(r["country"] != r["merchant_country"] for r in legit) / len(legit), 0.02)
        # legit bursts of small amounts: >= 3 transactions <= 5.00 of one card within 10 minutes
        small = {}
        for r in legit:
            if r["currency"] == "USD" and Decimal(r["amount"]) <= 5:
                small.setdefault(r["customer_id"], []).append(simulate_time(r["timestamp"]))
        bursts = sum(1 for ts in small.values() for i in range(len(ts) - 2) if ts[i + 2] - ts[i] <= 600)
        self.assertGreater(bursts, 10)

    def test_amount_alone_does_not_separate_fraud(self):
        # among the 1% largest amounts (USD), a good share is legitimate
        usd = sorted(((Decimal(r["amount"]), r["label"]) for r in self.parsed if r["currency"] == "USD"),
                     reverse=True)
        top = usd[:max(1, len(usd) // 100)]
        legit_share = sum(1 for _, lab in top if lab == "0") / len(top)
        self.assertGreater(legit_share, 0.5)


def simulate_time(stamp):
    import datetime as dt
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").timestamp()


class Helpers(unittest.TestCase):
    def test_minor_unit_conversion_is_exact_text(self):
        rows, tx, sim = generate(seed=1, **SMALL)
        for line in rows[:2000]:
            amount, currency = line.split(",")[4:6]
            if currency != "JPY":
                self.assertNotIn("e", amount)
                self.assertEqual(len(amount.split(".")[1]), 2)

    def test_allocate_respects_minimum_and_total(self):
        alloc = simulate._allocate(53, simulate.PHYSICAL_SHARE, minimum=3)
        self.assertEqual(int(alloc.sum()), 53)
        self.assertTrue((alloc >= 3).all())


if __name__ == "__main__":
    unittest.main()
