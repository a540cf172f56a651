#!/usr/bin/env python3
"""Transaction simulator for development data (``npm run simulate``).

Writes the canonical transactions CSV (docs/fraud-ml.md):
``tx_id,timestamp,customer_id,terminal_id,amount,currency,label,device_id,country,merchant_country,scenario``.
Only the Python standard library and numpy are used; the output is deterministic for a given seed
(same file bytes with the same numpy version).

What is simulated
-----------------
* A world of countries (US, CA, GB, DE, FR, JP), each a 100 x 100 map with a few cities. Physical
  terminals sit around the cities; online terminals (about 12%) have no location but a merchant country.
  Every terminal has a ticket-size multiplier; a few are "big-ticket" (electronics, jewellery, travel).
* Customers: a billing country (about 80% US), a home near a city, a spending profile (log-normal mean
  ticket, per-customer spread), a Poisson transaction rate with weekend and hour-of-day seasonality in
  *local* time (timestamps are UTC, so a Tokyo customer's lunch is 03:00Z), an online share, a phone and
  sometimes a laptop, a mobile-wallet share. Some customers join part-way through the period.
* Legitimate behaviour, including look-alikes of every fraud signature:
  - favourite terminals near home (ranked, Zipf-like) plus occasional new terminals;
  - online purchases at favourite online merchants, some cross-border (foreign currency);
  - travel: trips of 2-10 days to another city or country using terminals there (far from home,
    ``merchant_country`` != ``country``, foreign currency, bigger tickets);
  - occasional big purchases (4-25x the usual ticket, more often at big-ticket terminals);
  - micro-bursts: in-app purchases (0.49-4.99) seconds apart at online "digital goods" merchants,
    and parking/vending bursts at a physical terminal;
  - monthly subscriptions charged by merchants in a nightly batch (night-time, no device);
  - new devices: phone replacements and one-off devices (another browser, a work computer);
  - night owls (activity shifted late) and life changes (a lasting rise in ticket size and rate).
* Fraud scenarios (``scenario`` column; ``label`` is 1 exactly for scenarios 1-4):
  1. **card testing**: a campaign at one "weak" online merchant tests several stolen cards at once:
     each card gets a burst of 4-20 tiny amounts (0.50-5.00, often round) seconds apart, sometimes at
     a second weak merchant, from a device shared by the campaign (60%) or one per card; 70% of cards
     are then used for 1-2 large online purchases within minutes to hours.
  2. **compromised terminal ring** (graph signal): 1-2 physical terminals are compromised for 4-14
     days; 30-70% of the cards used there are skimmed. The skimming transactions are the real
     customers' and stay legitimate (label 0, scenario 0). 2-30 days later, 70% of the skimmed cards
     are cashed out at 2-5 "mule" terminals of the ring (sometimes abroad) with 1-4 card-present,
     often round amounts (100-1000 USD equivalent) and no device. Mule terminals connect many victims;
     victims share a compromised terminal in their history. Mules keep their legitimate traffic.
  3. **account takeover**: for 2-7 days an attacker with a new device (in another country 55% of the
     time, so other time zones) spends at 1.5-4 transactions a day, mostly online at merchants the
     customer never used, sometimes by mobile wallet at stores near the attacker, 2-8x the customer's
     usual ticket, 40% at any hour of the night. The customer's own transactions go on meanwhile
     (label 0); only the attacker's are fraud.
  4. **amount outlier**: a single purchase of 6-40x the customer's usual ticket, with a stolen card
     at a store (no device) or with stolen card details online (a new device or none). Legitimate big
     purchases have the same range, so amount alone is not enough.

At ``--fraud-intensity 1`` about 1% of transactions are fraud (roughly 0.35% card testing, 0.25% ring
cash-outs, 0.25% account takeover, 0.15% outliers). Event rates are per customer-day, so the fraud share
does not depend on the number of customers or days (the ring's share depends on customers per terminal,
5 by default).

What is *not* simulated: declines and authorisation responses, chargebacks and their dates (the label
delay is the pipeline's ``--feedback-delay-days``), card reissue after fraud (victims keep transacting),
daylight-saving time, exchange-rate movements (fixed rates), merchant category codes, refunds, first-party
fraud and fraud on brand-new accounts.

Amounts are in the terminal's (merchant's) currency, as on an authorisation message: a US customer
buying in Tokyo pays in JPY. They are generated in USD-equivalent, converted at fixed rates and written
with the currency's exponent (JPY 0 decimals, others 2).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

COLUMNS = [
    "tx_id", "timestamp", "customer_id", "terminal_id", "amount", "currency", "label",
    "device_id", "country", "merchant_country", "scenario",
]
SCENARIOS = {0: "legitimate", 1: "card_testing", 2: "compromised_terminal", 3: "account_takeover",
             4: "amount_outlier"}

# code, currency, exponent, units per USD, UTC offset at the west and east edge of the map (hours),
# share of customers, of physical terminals, of online terminals, number of cities
COUNTRIES = [
    ("US", "USD", 2, 1.0, -8, -5, 0.80, 0.58, 0.70, 6),
    ("CA", "CAD", 2, 1.36, -8, -5, 0.05, 0.08, 0.05, 3),
    ("GB", "GBP", 2, 0.79, 0, 0, 0.05, 0.09, 0.10, 3),
    ("DE", "EUR", 2, 0.92, 1, 1, 0.04, 0.09, 0.06, 3),
    ("FR", "EUR", 2, 0.92, 1, 1, 0.03, 0.08, 0.04, 3),
    ("JP", "JPY", 0, 150.0, 9, 9, 0.03, 0.08, 0.05, 3),
]
N_COUNTRIES = len(COUNTRIES)
CODE = [c[0] for c in COUNTRIES]
CURRENCY = [c[1] for c in COUNTRIES]
EXPONENT = np.array([c[2] for c in COUNTRIES])
FX = np.array([c[3] for c in COUNTRIES])
TZ_WEST = np.array([c[4] for c in COUNTRIES], dtype=float)
TZ_EAST = np.array([c[5] for c in COUNTRIES], dtype=float)
CUSTOMER_SHARE = np.array([c[6] for c in COUNTRIES])
PHYSICAL_SHARE = np.array([c[7] for c in COUNTRIES])
ONLINE_SHARE = np.array([c[8] for c in COUNTRIES])
N_CITIES = [c[9] for c in COUNTRIES]
# the "whole unit" of a currency for rounding: 1 for two-decimal currencies, 100 for JPY
ROUND_UNIT = np.where(EXPONENT == 0, 100.0, 1.0)

# fraud event rates per customer-day at --fraud-intensity 1
RATE_CARD_TESTING_CAMPAIGN = 7.7e-5
RATE_RING = 7.5e-5
RATE_ACCOUNT_TAKEOVER = 2.05e-4
RATE_AMOUNT_OUTLIER = 1.45e-3

# amount rounding modes (applied when converting USD-equivalent to the terminal's currency)
R_CENTS, R_WHOLE, R_TENS, R_99, R_LOCAL = 0, 1, 2, 3, 4  # R_LOCAL: value is already in "small units"

DAY = 86400
FAV_PHYSICAL = 20
FAV_ONLINE = 8
FAV_TRIP = 15

# hour-of-day profile, local time (relative weights)
HOURS = np.array([0.35, 0.2, 0.12, 0.08, 0.08, 0.15, 0.5, 1.1, 2.0, 3.0, 3.5, 4.0,
                  5.0, 4.5, 4.0, 4.0, 4.2, 5.0, 5.5, 5.0, 4.0, 3.0, 2.0, 1.0])
NIGHT_OWL_HOURS = np.roll(HOURS, 3)


def _cdf(w):
    c = np.cumsum(np.asarray(w, dtype=float))
    return c / c[-1]


HOUR_CDF = _cdf(HOURS)
NIGHT_OWL_CDF = _cdf(NIGHT_OWL_HOURS)
EVENING_CDF = _cdf(np.roll(HOURS, 2))
FAV_PHYSICAL_CDF = _cdf(1.0 / np.arange(1, FAV_PHYSICAL + 1) ** 1.1)
FAV_ONLINE_CDF = _cdf(1.0 / np.arange(1, FAV_ONLINE + 1) ** 1.2)
FAV_TRIP_CDF = _cdf(1.0 / np.arange(1, FAV_TRIP + 1) ** 0.6)


@dataclass
class Config:
    customers: int = 5000
    terminals: int = 1000
    days: int = 120
    start: str = "2026-01-01"
    seed: int = 42
    fraud_intensity: float = 1.0


class _Batch:
    """Transactions accumulated column-wise before the final sort."""

    def __init__(self):
        self.parts = []

    def add(self, ts, cust, term, usd, dev, rmode, scenario):
        n = len(ts)
        if n == 0:
            return
        def arr(v, dtype):
            a = np.asarray(v, dtype=dtype)
            return np.full(n, a, dtype=dtype) if a.ndim == 0 else a
        self.parts.append(dict(ts=arr(ts, np.int64), cust=arr(cust, np.int64), term=arr(term, np.int64),
                               usd=arr(usd, np.float64), dev=arr(dev, np.int64), rmode=arr(rmode, np.int8),
                               scenario=arr(scenario, np.int8)))

    def concat(self):
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


class Simulator:
    def __init__(self, cfg: Config, log=None):
        if cfg.customers < 1 or cfg.terminals < 4 * N_COUNTRIES or cfg.days < 1:
            raise ValueError(f"need customers >= 1, terminals >= {4 * N_COUNTRIES}, days >= 1")
        if cfg.fraud_intensity < 0:
            raise ValueError("fraud intensity must be >= 0")
        self.cfg = cfg
        self.log = log or (lambda msg: None)
        seeds = np.random.SeedSequence(cfg.seed).spawn(8)
        self.rng_world, self.rng_legit, self.rng_extra, self.rng_ct, self.rng_ring, self.rng_ato, \
            self.rng_out, self.rng_ids = [np.random.default_rng(s) for s in seeds]
        start = dt.datetime.strptime(cfg.start, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
        self.t0 = int(start.timestamp())
        self.t_end = self.t0 + cfg.days * DAY
        self.first_weekday = start.weekday()
        self.n_dev = 0
        self.batch = _Batch()

    # ------------------------------------------------------------------ world
    def new_devices(self, n):
        first = self.n_dev
        self.n_dev += n
        return np.arange(first, first + n)

    def build_world(self):
        rng, cfg = self.rng_world, self.cfg
        C, T = cfg.customers, cfg.terminals
        # cities
        self.city_xy = [rng.uniform(8, 92, size=(k, 2)) for k in N_CITIES]
        self.city_w = [_norm(rng.uniform(0.3, 1.0, size=k) ** 2) for k in N_CITIES]
        self.city_sigma = [rng.uniform(3, 7, size=k) for k in N_CITIES]

        # terminals: allocate by country with a minimum per country, then shuffle the id order
        n_online = max(N_COUNTRIES, int(round(0.12 * T)))
        n_phys = T - n_online
        phys_alloc = _allocate(n_phys, PHYSICAL_SHARE, minimum=3)
        online_alloc = _allocate(n_online, ONLINE_SHARE, minimum=1)
        country = np.concatenate([np.repeat(np.arange(N_COUNTRIES), phys_alloc),
                                  np.repeat(np.arange(N_COUNTRIES), online_alloc)])
        online = np.concatenate([np.zeros(n_phys, bool), np.ones(n_online, bool)])
        perm = rng.permutation(T)
        self.t_country, self.t_online = country[perm], online[perm]
        self.t_xy = np.zeros((T, 2))
        for k in range(N_COUNTRIES):
            idx = np.flatnonzero((self.t_country == k) & ~self.t_online)
            self.t_xy[idx] = self._place(rng, k, len(idx))
        self.t_tz = self._tz(self.t_country, self.t_xy)
        mult = np.exp(rng.normal(0, 0.45, T))
        self.t_big = rng.random(T) < np.where(self.t_online, 0.10, 0.06)
        mult[self.t_big] *= rng.uniform(3, 8, self.t_big.sum())
        self.t_mult = mult
        self.online_ids = np.flatnonzero(self.t_online)
        self.phys_by_country = [np.flatnonzero((self.t_country == k) & ~self.t_online) for k in range(N_COUNTRIES)]
        self.online_by_country = [np.flatnonzero((self.t_country == k) & self.t_online) for k in range(N_COUNTRIES)]
        n_on = len(self.online_ids)
        on = rng.permutation(self.online_ids)
        self.micro_merchants = on[:max(1, round(0.10 * n_on))]
        self.sub_merchants = rng.permutation(self.online_ids)[:max(1, round(0.20 * n_on))]
        n_test = max(1, round(0.06 * n_on))
        half = min(len(self.micro_merchants), (n_test + 1) // 2)
        others = np.setdiff1d(self.online_ids, self.micro_merchants[:half])
        self.test_merchants = np.concatenate([self.micro_merchants[:half],
                                              rng.permutation(others)[:n_test - half]])
        self.sub_hour = rng.choice(24, size=T, p=_norm(np.where(np.arange(24) < 7, 3.0, 1.0)))

        # customers
        self.c_country = rng.choice(N_COUNTRIES, size=C, p=CUSTOMER_SHARE)
        self.c_xy = np.zeros((C, 2))
        self.c_city = np.zeros(C, dtype=np.int64)
        for k in range(N_COUNTRIES):
            idx = np.flatnonzero(self.c_country == k)
            self.c_xy[idx], self.c_city[idx] = self._place(rng, k, len(idx), return_city=True)
        self.c_tz = self._tz(self.c_country, self.c_xy)
        self.c_mean = np.exp(rng.normal(np.log(35), 0.6, C))          # USD-equivalent typical ticket
        self.c_sigma = rng.uniform(0.35, 0.85, C)
        self.c_rate = np.clip(np.exp(rng.normal(np.log(0.75), 0.6, C)), 0.08, 6.0)   # per day
        self.c_weekend = np.exp(rng.normal(0.1, 0.25, C))
        self.c_night_owl = rng.random(C) < 0.10
        self.c_online = rng.beta(2, 6, C)
        self.c_wallet = np.where(rng.random(C) < 0.45, rng.beta(4, 3, C), 0.0)
        self.c_start_day = np.where(rng.random(C) < 0.15, rng.integers(0, cfg.days, C), 0)
        life = rng.random(C) < 0.06
        self.c_life_day = np.where(life, rng.integers(0, cfg.days, C), cfg.days + 1)
        self.c_life_amount = np.where(life, rng.uniform(1.5, 3.0, C), 1.0)
        self.c_life_rate = np.where(life, rng.uniform(1.2, 2.0, C), 1.0)
        self.c_micro = np.where(rng.random(C) < 0.2, rng.uniform(0.01, 0.05, C), 0.0)  # bursts per day
        # devices: a phone (replaced on c_phone_day by c_phone2 for 25%), a laptop for half
        self.c_phone = self.new_devices(C)
        has_laptop = rng.random(C) < 0.5
        self.c_laptop = np.full(C, -1)
        self.c_laptop[has_laptop] = self.new_devices(int(has_laptop.sum()))
        repl = rng.random(C) < 0.25
        self.c_phone_day = np.where(repl, rng.integers(1, max(2, cfg.days), C), cfg.days + 1)
        self.c_phone2 = self.c_phone.copy()
        self.c_phone2[repl] = self.new_devices(int(repl.sum()))

        # favourite terminals: nearest by distance times noise, ranked
        self.c_fav = np.zeros((C, FAV_PHYSICAL), dtype=np.int64)
        self.c_fav_online = np.zeros((C, FAV_ONLINE), dtype=np.int64)
        for k in range(N_COUNTRIES):
            idx = np.flatnonzero(self.c_country == k)
            if len(idx) == 0:
                continue
            self.c_fav[idx] = self._nearest(rng, self.c_xy[idx], self.phys_by_country[k], FAV_PHYSICAL)
            # online: mostly domestic merchants, ~15% cross-border
            dom, allon = self.online_by_country[k], self.online_ids
            pick_dom = rng.integers(0, len(dom), (len(idx), FAV_ONLINE))
            pick_any = rng.integers(0, len(allon), (len(idx), FAV_ONLINE))
            self.c_fav_online[idx] = np.where(rng.random((len(idx), FAV_ONLINE)) < 0.85, dom[pick_dom], allon[pick_any])

        # travel: trips of 2-10 days to another city (domestic) or country
        D = cfg.days
        self.trip_of = np.full((C, D), -1, dtype=np.int64)
        traveller = rng.random(C) < 0.45
        n_trips = rng.poisson(np.where(traveller, D / rng.uniform(30, 120, C), 0.0))
        trips_country, trips_xy = [], []
        for c in np.flatnonzero(n_trips):
            for _ in range(n_trips[c]):
                length = int(rng.integers(2, 11))
                d0 = int(rng.integers(0, D))
                home = self.c_country[c]
                if rng.random() < 0.5:
                    dest = home
                    cities = [i for i in range(N_CITIES[home]) if i != self.c_city[c]] or [self.c_city[c]]
                    city = cities[int(rng.integers(0, len(cities)))]
                else:
                    p = PHYSICAL_SHARE.copy()
                    p[home] = 0
                    dest = int(rng.choice(N_COUNTRIES, p=_norm(p)))
                    city = int(rng.choice(N_CITIES[dest], p=self.city_w[dest]))
                xy = self.city_xy[dest][city] + rng.normal(0, 2, 2)
                self.trip_of[c, d0:d0 + length] = len(trips_country)
                trips_country.append(dest)
                trips_xy.append(xy)
        self.trip_country = np.array(trips_country, dtype=np.int64)
        self.trip_xy = np.array(trips_xy).reshape(-1, 2)
        self.trip_tz = self._tz(self.trip_country, self.trip_xy)
        self.trip_fav = np.zeros((len(trips_country), FAV_TRIP), dtype=np.int64)
        for k in range(N_COUNTRIES):
            idx = np.flatnonzero(self.trip_country == k)
            if len(idx):
                self.trip_fav[idx] = self._nearest(rng, self.trip_xy[idx], self.phys_by_country[k], FAV_TRIP)

    def _place(self, rng, k, n, return_city=False):
        city = rng.choice(N_CITIES[k], size=n, p=self.city_w[k])
        xy = self.city_xy[k][city] + rng.normal(0, 1, (n, 2)) * self.city_sigma[k][city][:, None]
        xy = np.clip(xy, 0, 100)
        return (xy, city) if return_city else xy

    def _tz(self, country, xy):
        if len(country) == 0:
            return np.zeros(0, dtype=np.int64)
        frac = xy[:, 0] / 100.0
        return np.rint(TZ_WEST[country] + (TZ_EAST[country] - TZ_WEST[country]) * frac).astype(np.int64)

    def _nearest(self, rng, points, candidates, k):
        """For each point, k candidate terminals ranked by distance x noise (repeating if too few)."""
        out = np.zeros((len(points), k), dtype=np.int64)
        kk = min(k, len(candidates))
        for s in range(0, len(points), 2000):
            p = points[s:s + 2000]
            d = np.hypot(p[:, None, 0] - self.t_xy[candidates][None, :, 0], p[:, None, 1] - self.t_xy[candidates][None, :, 1])
            score = (d + 0.5) * np.exp(rng.normal(0, 0.5, d.shape))
            part = np.argpartition(score, kk - 1, axis=1)[:, :kk]
            order = np.take_along_axis(score, part, axis=1).argsort(axis=1)
            ranked = candidates[np.take_along_axis(part, order, axis=1)]
            out[s:s + 2000] = ranked[:, np.arange(k) % kk]
        return out

    # ------------------------------------------------------------------ legitimate
    def legit(self):
        rng, cfg = self.rng_legit, self.cfg
        C, D = cfg.customers, cfg.days
        day = np.arange(D)
        weekend = ((self.first_weekday + day) % 7) >= 5
        lam = self.c_rate[:, None] * np.where(weekend[None, :], self.c_weekend[:, None], 1.0)
        lam = lam * (day[None, :] >= self.c_start_day[:, None])
        lam = lam * np.where(day[None, :] >= self.c_life_day[:, None], self.c_life_rate[:, None], 1.0)
        lam = lam * np.where(self.trip_of >= 0, 1.2, 1.0)
        counts = rng.poisson(lam).ravel()
        flat = np.repeat(np.arange(C * D), counts)
        cust, d = flat // D, flat % D
        n = len(cust)
        self.log(f"legitimate purchases: {n:,}")
        trip = self.trip_of[cust, d]
        on_trip = trip >= 0
        u = rng.random(n)
        hour = np.where(self.c_night_owl[cust], np.searchsorted(NIGHT_OWL_CDF, u), np.searchsorted(HOUR_CDF, u))
        online = rng.random(n) < self.c_online[cust] * np.where(on_trip, 0.5, 1.0)
        term = np.empty(n, dtype=np.int64)
        # physical at home: ranked favourites, 4% a random terminal of the home country
        rank = np.searchsorted(FAV_PHYSICAL_CDF, rng.random(n))
        term[:] = self.c_fav[cust, rank]
        explore = (rng.random(n) < 0.04) & ~online & ~on_trip
        for k in range(N_COUNTRIES):
            m = explore & (self.c_country[cust] == k)
            term[m] = rng.choice(self.phys_by_country[k], m.sum())
        tm = on_trip & ~online
        term[tm] = self.trip_fav[trip[tm], np.searchsorted(FAV_TRIP_CDF, rng.random(tm.sum()))]
        om = online
        orank = np.searchsorted(FAV_ONLINE_CDF, rng.random(om.sum()))
        oterm = self.c_fav_online[cust[om], orank]
        wander = rng.random(om.sum()) < 0.05
        oterm[wander] = rng.choice(self.online_ids, wander.sum())
        term[om] = oterm
        # time: local -> UTC
        safe_trip = np.where(on_trip, trip, 0)
        here_tz = np.where(on_trip, self.trip_tz[safe_trip] if len(self.trip_tz) else 0, self.c_tz[cust])
        tz = np.where(online, here_tz, self.t_tz[term])
        ts = self.t0 + d * DAY + hour * 3600 + rng.integers(0, 3600, n) - tz * 3600
        # amounts
        life = np.where(d >= self.c_life_day[cust], self.c_life_amount[cust], 1.0)
        usd = self.c_mean[cust] * life * self.t_mult[term] * np.exp(self.c_sigma[cust] * rng.normal(0, 1, n))
        usd *= np.where(tm, 1.2, 1.0)
        big = rng.random(n) < np.where(self.t_big[term], 0.02, 0.002)
        usd[big] *= np.exp(rng.uniform(np.log(4), np.log(25), big.sum()))
        usd = np.clip(usd, 0.5, 25000)
        rmode = rng.choice([R_CENTS, R_WHOLE, R_99, R_TENS], size=n, p=[0.72, 0.11, 0.13, 0.04])
        # devices: online uses the phone (the new one after a replacement) or the laptop; 1.5% a one-off
        # device; in store, the phone when paying by mobile wallet, else none
        phone = np.where(d >= self.c_phone_day[cust], self.c_phone2[cust], self.c_phone[cust])
        laptop = self.c_laptop[cust]
        use_laptop = (laptop >= 0) & (rng.random(n) < 0.4)
        dev = np.where(online, np.where(use_laptop, laptop, phone),
                       np.where(rng.random(n) < self.c_wallet[cust], phone, -1))
        oneoff = online & (rng.random(n) < 0.015)
        dev[oneoff] = self.new_devices(int(oneoff.sum()))
        self.batch.add(ts, cust, term, usd, dev, rmode, 0)
        self.legit_ts, self.legit_cust, self.legit_term, self.legit_online = ts, cust, term, online

    def legit_extras(self):
        """Subscriptions (nightly merchant batches) and micro-bursts (in-app purchases, parking)."""
        rng, cfg = self.rng_extra, self.cfg
        C, D = cfg.customers, cfg.days
        # subscriptions
        n_sub = rng.choice(4, size=C, p=[0.5, 0.3, 0.15, 0.05])
        sc = np.repeat(np.arange(C), n_sub)
        sterm = rng.choice(self.sub_merchants, len(sc))
        susd = np.exp(rng.normal(np.log(12), 0.6, len(sc)))
        sfirst = rng.integers(0, 30, len(sc))
        k = np.arange((D + 29) // 30)
        sday = (sfirst[:, None] + 30 * k[None, :]).ravel()
        srep = np.repeat(np.arange(len(sc)), len(k))
        keep = (sday < D) & (sday >= self.c_start_day[sc[srep]])
        sday, srep = sday[keep], srep[keep]
        ts = self.t0 + sday * DAY + self.sub_hour[sterm[srep]] * 3600 + rng.integers(0, 3600, len(srep))
        self.batch.add(ts, sc[srep], sterm[srep], susd[srep], -1, R_99, 0)
        # micro-bursts
        nb = rng.poisson(self.c_micro * np.maximum(D - self.c_start_day, 0))
        bc = np.repeat(np.arange(C), nb)
        for c in bc:
            day = int(rng.integers(self.c_start_day[c], D))
            hour = int(np.searchsorted(EVENING_CDF, rng.random()))
            m = int(rng.integers(3, 11))
            if rng.random() < 0.6:  # in-app purchases
                term = int(rng.choice(self.micro_merchants))
                gaps = 10 + rng.exponential(90, m)
                amt = rng.choice([0.49, 0.99, 1.99, 2.99, 4.99], m)
                dev = self.c_phone2[c] if day >= self.c_phone_day[c] else self.c_phone[c]
                tz = self.c_tz[c]
            else:  # parking, vending, transit
                term = int(self.c_fav[c, rng.integers(0, FAV_PHYSICAL)])
                gaps = 60 + rng.exponential(600, m)
                amt = np.round(rng.uniform(1.0, 4.0, m), 2)
                dev = -1
                tz = self.t_tz[term]
            ts = self.t0 + day * DAY + hour * 3600 + int(rng.integers(0, 3600)) - tz * 3600 + np.cumsum(gaps).astype(np.int64)
            self.batch.add(ts, c, term, amt, dev, R_LOCAL, 0)

    # ------------------------------------------------------------------ fraud
    def _active_day(self, rng, c, latest=None):
        latest = self.cfg.days if latest is None else latest
        lo = int(self.c_start_day[c])
        return int(rng.integers(lo, max(lo + 1, latest)))

    def card_testing(self):
        rng, cfg = self.rng_ct, self.cfg
        n = rng.poisson(cfg.fraud_intensity * RATE_CARD_TESTING_CAMPAIGN * cfg.customers * cfg.days)
        big_online = np.intersect1d(self.online_ids, np.flatnonzero(self.t_big))
        for _ in range(n):
            term = int(rng.choice(self.test_merchants))
            t = self.t0 + int(rng.integers(0, cfg.days * DAY))
            active = np.flatnonzero(self.c_start_day * DAY + self.t0 <= t)
            victims = rng.choice(active, min(len(active), int(rng.integers(1, 7))), replace=False)
            shared = self.new_devices(1)[0] if rng.random() < 0.6 else None
            for c in victims:
                dev = shared if shared is not None else self.new_devices(1)[0]
                m = int(rng.integers(4, 21))
                ts = t + int(rng.integers(0, 3 * 3600)) + np.cumsum(5 + rng.exponential(40, m)).astype(np.int64)
                fixed = rng.random(m) < 0.4
                amt = np.where(fixed, rng.choice([0.5, 1.0, 1.0, 2.0, 5.0, 0.99, 1.5], m),
                               np.round(rng.uniform(0.5, 5.0, m), 2))
                terms = np.full(m, term)
                if rng.random() < 0.25:
                    terms[m // 2:] = rng.choice(self.test_merchants)
                self.batch.add(ts, c, terms, amt, dev, R_LOCAL, 1)
                if rng.random() < 0.7:
                    k = int(rng.integers(1, 3))
                    pool = big_online if len(big_online) and rng.random() < 0.6 else self.online_ids
                    bts = ts[-1] + np.cumsum(rng.integers(300, 12 * 3600, k))
                    busd = np.clip(np.exp(rng.normal(np.log(400), 0.6, k)), 80, 3000)
                    self.batch.add(bts, c, rng.choice(pool, k), busd,
                                   dev, rng.choice([R_CENTS, R_WHOLE, R_99], k, p=[0.6, 0.25, 0.15]), 1)

    def compromised_terminals(self):
        rng, cfg = self.rng_ring, self.cfg
        n = rng.poisson(cfg.fraud_intensity * RATE_RING * cfg.customers * cfg.days)
        phys = ~self.legit_online
        traffic = np.bincount(self.legit_term[phys], minlength=cfg.terminals).astype(float)
        traffic[self.t_online] = 0
        if traffic.sum() == 0:
            return
        self.rings = []
        for _ in range(n):
            seed = int(rng.choice(cfg.terminals, p=traffic / traffic.sum()))
            k = self.t_country[seed]
            comp = [seed]
            if rng.random() < 0.4:
                near = self._nearest(rng, self.t_xy[seed][None, :], self.phys_by_country[k], 4)[0]
                comp.append(int(rng.choice(near[near != seed])) if (near != seed).any() else seed)
            w_start = self.t0 + int(rng.integers(0, max(1, cfg.days - 7))) * DAY
            w_end = w_start + int(rng.integers(4, 15)) * DAY
            # mules: a cluster of 2-5 terminals near a city, 35% abroad
            mk = k
            if rng.random() < 0.35:
                p = PHYSICAL_SHARE.copy()
                p[k] = 0
                mk = int(rng.choice(N_COUNTRIES, p=_norm(p)))
            centre = self.city_xy[mk][int(rng.choice(N_CITIES[mk], p=self.city_w[mk]))] + rng.normal(0, 2, 2)
            area = self._nearest(rng, centre[None, :], self.phys_by_country[mk], 15)[0]
            mules = np.unique(area[:int(rng.integers(2, 6))])
            self.rings.append(dict(compromised=comp, mules=mules.tolist()))
            hit = np.isin(self.legit_term, comp) & phys & (self.legit_ts >= w_start) & (self.legit_ts < w_end)
            cards, first = np.unique(self.legit_cust[hit], return_index=True)
            skim_t = self.legit_ts[hit][first]
            p_skim = rng.uniform(0.3, 0.7)
            for c, st in zip(cards, skim_t):
                if rng.random() >= p_skim * 0.7:
                    continue
                day = (int(st) - self.t0) // DAY + int(rng.integers(2, 31))
                m = int(rng.integers(1, 5))
                days = day + np.cumsum(rng.random(m) < 0.3)
                terms = np.where(rng.random(m) < 0.85, rng.choice(mules, m), rng.choice(area, m))
                hours = np.searchsorted(EVENING_CDF, rng.random(m))
                ts = self.t0 + days * DAY + hours * 3600 + rng.integers(0, 3600, m) - self.t_tz[terms] * 3600
                usd = np.clip(np.exp(rng.normal(np.log(330), 0.5, m)), 60, 2500)
                rmode = rng.choice([R_TENS, R_WHOLE, R_CENTS], m, p=[0.35, 0.25, 0.4])
                self.batch.add(ts, c, terms, usd, -1, rmode, 2)

    def account_takeover(self):
        rng, cfg = self.rng_ato, self.cfg
        n = rng.poisson(cfg.fraud_intensity * RATE_ACCOUNT_TAKEOVER * cfg.customers * cfg.days)
        victims = rng.choice(cfg.customers, n, p=_norm(0.2 + self.c_online))
        for c in victims:
            d0 = self._active_day(rng, c)
            length = int(rng.integers(2, 8))
            home = self.c_country[c]
            k = home
            if rng.random() < 0.55:
                p = PHYSICAL_SHARE.copy()
                p[home] = 0
                k = int(rng.choice(N_COUNTRIES, p=_norm(p)))
            xy = self.city_xy[k][int(rng.choice(N_CITIES[k], p=self.city_w[k]))] + rng.normal(0, 3, 2)
            tz = int(self._tz(np.array([k]), xy[None, :])[0])
            devs = self.new_devices(int(rng.integers(1, 3)))
            near = self._nearest(rng, xy[None, :], self.phys_by_country[k], 15)[0]
            per_day = rng.uniform(1.5, 4.0)
            counts = rng.poisson(per_day, length)
            counts[0] = max(counts[0], 1)
            days = d0 + np.repeat(np.arange(length), counts)
            m = len(days)
            online = rng.random(m) < 0.75
            terms = np.where(rng.random(m) < 0.2, self.c_fav_online[c, rng.integers(0, FAV_ONLINE, m)],
                             rng.choice(self.online_ids, m))
            terms = np.where(online, terms, rng.choice(near, m))
            hours = np.where(rng.random(m) < 0.4, rng.integers(0, 24, m), np.searchsorted(HOUR_CDF, rng.random(m)))
            ts = self.t0 + days * DAY + hours * 3600 + rng.integers(0, 3600, m) - tz * 3600
            usd = self.c_mean[c] * np.exp(rng.uniform(np.log(2), np.log(8), m)) * np.sqrt(self.t_mult[terms])
            usd = np.clip(usd, 5, 5000)
            rmode = rng.choice([R_CENTS, R_WHOLE, R_99, R_TENS], size=m, p=[0.72, 0.11, 0.13, 0.04])
            self.batch.add(ts, c, terms, usd, rng.choice(devs, m), rmode, 3)

    def amount_outliers(self):
        rng, cfg = self.rng_out, self.cfg
        n = rng.poisson(cfg.fraud_intensity * RATE_AMOUNT_OUTLIER * cfg.customers * cfg.days)
        victims = rng.integers(0, cfg.customers, n)
        for c in victims:
            day = self._active_day(rng, c)
            hour = int(np.searchsorted(HOUR_CDF, rng.random()))
            k = self.c_country[c]
            if rng.random() < 0.6:  # stolen card at a store
                if rng.random() < 0.5:
                    term = int(self.c_fav[c, rng.integers(0, FAV_PHYSICAL)])
                else:
                    pool = self.phys_by_country[k]
                    bigp = pool[self.t_big[pool]]
                    term = int(rng.choice(bigp if len(bigp) and rng.random() < 0.35 else pool))
                dev, tz = -1, self.t_tz[term]
            else:  # stolen card details online
                dom = self.online_by_country[k]
                term = int(rng.choice(dom if rng.random() < 0.7 else self.online_ids))
                dev = self.new_devices(1)[0] if rng.random() < 0.7 else -1
                tz = self.c_tz[c]
            life = self.c_life_amount[c] if day >= self.c_life_day[c] else 1.0
            usd = self.c_mean[c] * life * self.t_mult[term] ** 0.3 * np.exp(rng.uniform(np.log(6), np.log(40)))
            usd = float(np.clip(usd, 50, 15000))
            ts = self.t0 + day * DAY + hour * 3600 + int(rng.integers(0, 3600)) - int(tz) * 3600
            self.batch.add([ts], c, term, usd, dev, int(rng.choice([R_CENTS, R_WHOLE, R_99, R_TENS], p=[0.6, 0.2, 0.12, 0.08])), 4)

    # ------------------------------------------------------------------ assembly
    def run(self):
        self.log("building the world")
        self.build_world()
        self.legit()
        self.legit_extras()
        self.log("fraud scenarios")
        self.card_testing()
        self.compromised_terminals()
        self.account_takeover()
        self.amount_outliers()
        tx = self.batch.concat()
        keep = (tx["ts"] >= self.t0) & (tx["ts"] < self.t_end)
        tx = {k: v[keep] for k, v in tx.items()}
        tie = self.rng_ids.random(len(tx["ts"]))
        order = np.lexsort((tie, tx["ts"]))
        tx = {k: v[order] for k, v in tx.items()}
        tx["minor"] = self._minor(tx["usd"], tx["term"], tx["rmode"])
        return tx

    def _minor(self, usd, term, rmode):
        """USD-equivalent -> integer minor units of the terminal's currency, per rounding mode."""
        k = self.t_country[term]
        e, ru = EXPONENT[k], ROUND_UNIT[k]
        scale = 10.0 ** e
        local = usd * FX[k]
        minor = np.rint(local * scale)
        tens = (rmode == R_TENS) & (local >= 20 * ru)   # small amounts are not rounded to tens
        minor = np.where((rmode == R_WHOLE) | ((rmode == R_TENS) & ~tens),
                         np.maximum(1, np.rint(local / ru)) * ru * scale, minor)
        minor = np.where(tens, np.rint(local / (10 * ru)) * 10 * ru * scale, minor)
        minor = np.where((rmode == R_99) & (e == 2), np.floor(local) * 100 + 99, minor)
        minor = np.where((rmode == R_99) & (e == 0), np.maximum(1, np.rint(local / 10)) * 10, minor)
        minor = np.where(rmode == R_LOCAL, np.rint(usd * ru * scale), minor)
        return np.maximum(minor, 1).astype(np.int64)

    def device_names(self):
        names = set()
        out = []
        rng = self.rng_ids
        while len(out) < self.n_dev:
            for v in rng.integers(0, 2 ** 48, self.n_dev - len(out), dtype=np.int64).tolist():
                s = f"d_{v:012x}"
                if s not in names:
                    names.add(s)
                    out.append(s)
        return out


def _norm(p):
    p = np.asarray(p, dtype=float)
    return p / p.sum()


def _allocate(total, shares, minimum):
    """Split total by shares (largest remainder) with a minimum per part."""
    n = len(shares)
    base = np.full(n, minimum)
    rest = total - base.sum()
    raw = _norm(shares) * rest
    alloc = np.floor(raw).astype(int)
    alloc[np.argsort(-(raw - alloc), kind="stable")[:rest - alloc.sum()]] += 1
    return base + alloc


def simulate(cfg: Config, log=None, devices=True):
    """Run the simulation; returns (rows as a list of CSV lines without header, transactions dict, simulator).

    devices=False leaves ``device_id`` empty on every row. The world is generated exactly as with devices (the
    same random draws, device names included), so every other column is the same for a seed: data without
    device ids (e.g. card-present processors), to see what the models do without the device signal.
    """
    sim = Simulator(cfg, log)
    tx = sim.run()
    n = len(tx["ts"])
    (log or (lambda m: None))(f"formatting {n:,} rows")
    width = max(8, len(str(n)))
    tx_ids = [f"tx_{i:0{width}d}" for i in range(1, n + 1)]
    stamps = np.datetime_as_string(tx["ts"].astype("datetime64[s]"), unit="s")
    cw, tw = max(5, len(str(cfg.customers))), max(4, len(str(cfg.terminals)))
    cust_names = np.array([f"c_{i:0{cw}d}" for i in range(1, cfg.customers + 1)], dtype=object)
    term_names = np.array([f"t_{i:0{tw}d}" for i in range(1, cfg.terminals + 1)], dtype=object)
    dev_names = np.array([""] + sim.device_names(), dtype=object)  # drawn either way: rng_ids stays the same
    if not devices:
        dev_names[:] = ""
    k = sim.t_country[tx["term"]]
    exps = EXPONENT[k]
    minor = tx["minor"]
    amounts = [str(m) if e == 0 else f"{m // 100}.{m % 100:02d}" for m, e in zip(minor.tolist(), exps.tolist())]
    currency = np.array(CURRENCY, dtype=object)[k]
    mcountry = np.array(CODE, dtype=object)[k]
    ccountry = np.array(CODE, dtype=object)[sim.c_country[tx["cust"]]]
    scen = tx["scenario"]
    label = np.where(scen > 0, "1", "0").astype(object)
    scen_s = np.array([str(i) for i in range(5)], dtype=object)[scen]
    cols = [tx_ids, [s + "Z" for s in stamps.tolist()], cust_names[tx["cust"]].tolist(),
            term_names[tx["term"]].tolist(), amounts, currency.tolist(), label.tolist(),
            dev_names[tx["dev"] + 1].tolist(), ccountry.tolist(), mcountry.tolist(), scen_s.tolist()]
    rows = [",".join(r) for r in zip(*cols)]
    return rows, tx, sim


def write_csv(path, rows):
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(COLUMNS) + "\n")
        for i in range(0, len(rows), 100_000):
            f.write("\n".join(rows[i:i + 100_000]) + "\n")


def summary(tx, scenarios=None):
    """Rows and share per scenario, the fraud total and the row total, as a table (`scenarios`: {code: name},
    default this simulator's; ml/handbook.py passes its worlds')."""
    scenarios = SCENARIOS if scenarios is None else scenarios
    n = len(tx["scenario"])
    counts = np.bincount(tx["scenario"], minlength=len(scenarios))
    width = max(22, max(len(name) for name in scenarios.values()))
    lines = [f"{'scenario':<{width + 2}}{'rows':>11}{'share':>9}"]
    for s, name in scenarios.items():
        lines.append(f"{s} {name:<{width}}{counts[s]:>11,}{100 * counts[s] / max(n, 1):>8.3f}%")
    fraud = int(counts[1:].sum())
    lines.append(f"{'fraud (label 1)':<{width + 2}}{fraud:>11,}{100 * fraud / max(n, 1):>8.3f}%")
    lines.append(f"{'total':<{width + 2}}{n:>11,}")
    return "\n".join(lines)


def main(argv=None):
    # Every option's help ends with its default (ml/README: --help gives every option and its default).
    ap = argparse.ArgumentParser(description="Simulate card transactions with labelled fraud scenarios "
                                             "(see ml/README.md).",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--out", default="data/simulated.csv", help="output CSV (directories are created)")
    ap.add_argument("--customers", type=int, default=5000, help="cardholders")
    ap.add_argument("--terminals", type=int, default=1000, help="merchants' terminals")
    ap.add_argument("--days", type=int, default=120, help="days simulated")
    ap.add_argument("--start", default="2026-01-01", help="first day, YYYY-MM-DD (UTC)")
    ap.add_argument("--seed", type=int, default=42, help="the world's random seed")
    ap.add_argument("--fraud-intensity", type=float, default=1.0,
                    help="scales every fraud scenario's rate (1.0 gives about 1%% fraud)")
    ap.add_argument("--no-devices", action="store_true",
                    help="leave device_id empty on every row (the same world otherwise: every other column is "
                         "identical for a seed)")
    ap.add_argument("--quiet", action="store_true", help="print nothing")
    a = ap.parse_args(argv)
    cfg = Config(customers=a.customers, terminals=a.terminals, days=a.days, start=a.start, seed=a.seed,
                 fraud_intensity=a.fraud_intensity)
    t = time.perf_counter()
    log = None if a.quiet else (lambda m: print(f"[{time.perf_counter() - t:6.1f}s] {m}", file=sys.stderr, flush=True))
    try:
        rows, tx, _ = simulate(cfg, log, devices=not a.no_devices)
    except ValueError as e:
        ap.error(str(e))
    write_csv(a.out, rows)
    if not a.quiet:
        print(summary(tx))
        size = os.path.getsize(a.out)
        print(f"wrote {a.out}: {len(rows):,} rows, {size / 1e6:.1f} MB in {time.perf_counter() - t:.1f}s "
              f"(seed {cfg.seed}, {cfg.customers} customers, {cfg.terminals} terminals, {cfg.days} days"
              f"{', no device ids' if a.no_devices else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
