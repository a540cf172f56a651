"""The training windows of ml/train.py: which rows each model learns from, is selected on and is tested on.

Time splits only, never random. Everything is expressed in terms of *when labels become known*: a
transaction's label is known D days after it (D = the feedback delay), so a model trained "as of" time T may
learn only from labelled transactions before T − D. The windows, oldest first:

    warm-up | fit ............... | gap D | valid ..... | gap D | test ..... | unlabelled tail
    skipped   selection models      (not    settings,      (not    held out      history only
              learn here            used)   stacker,       used)   (--test-days,
                                            thresholds             optional)
            | refit ................................... |
              the published models: all labels known before the test window (or all of them)

- The labels the models may use end at `known_end`: with `--until U`, the labels of transactions before
  U − D (later ones would not be known at U, and rows from U on are ignored altogether); without it, every
  label in the file (a mature export). Rows with an empty label are never in the loss, wherever they are;
  they still count as history (their features and graph edges were computed in the replay).
- The optional test window is the last `test_days` of labelled time before `known_end`. The models measured
  on it are trained as of its start: their labels end D days before it.
- Validation is the last `valid_days` of labels the models may use, so it is as recent as the delay allows;
  the selection models learn from labels known at its start (D days before it).
- The refit learns from every usable label (up to the test window's gap, or to `known_end`) with the settings
  chosen on validation (trees, epochs, stacker, thresholds).
"""

import datetime as dt

import numpy as np

DAY = 86400.0


def parse_date(text, option):
    """YYYY-MM-DD as 00:00 UTC, in epoch seconds."""
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        raise SystemExit(f"{option} {text!r} is not a date: use YYYY-MM-DD") from None


def iso(seconds):
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan(times, labels, delay_days, warmup_days=30.0, valid_days=14.0, test_days=0.0, until=None):
    """The windows as boolean masks over the rows, with their bounds (epoch seconds, [start, end)).

    `labels` holds 0/1, or −1 for a row without a label. Raises SystemExit with a clear message when a
    window is empty or has no fraud.
    """
    delay = delay_days * DAY
    considered = np.ones(len(times), dtype=bool) if until is None else times < until
    if not considered.any():
        raise SystemExit("no transaction before --until")
    labelled = considered & (labels >= 0)
    if until is not None:
        labelled &= times < until - delay
    if not labelled.any():
        raise SystemExit(
            "no labelled transaction" + (f" before --until minus the {delay_days:g}-day feedback delay" if until is not None else "")
        )
    start = times[considered].min() + warmup_days * DAY
    known_end = times[labelled].max() + 1.0
    if test_days > 0:
        test_start = known_end - test_days * DAY
        test = labelled & (times >= test_start)
        usable_end = test_start - delay
    else:
        test_start = None
        test = np.zeros(len(times), dtype=bool)
        usable_end = known_end
    valid_start = usable_end - valid_days * DAY
    fit_end = valid_start - delay
    if fit_end <= start:
        raise SystemExit(
            f"not enough labelled time: the fit window would end {iso(fit_end)}, before the warm-up ends {iso(start)} "
            f"(labels known to {iso(known_end)}; warm-up {warmup_days:g} d, validation {valid_days:g} d, delay {delay_days:g} d"
            + (f", test {test_days:g} d" if test_days > 0 else "")
            + "): give more data or shorten the windows"
        )
    after_warmup = labelled & (times >= start)
    windows = {
        "fit": after_warmup & (times < fit_end),
        "valid": after_warmup & (times >= valid_start) & (times < usable_end),
        "refit": after_warmup & (times < usable_end),
        "test": test,
    }
    for name in ("fit", "valid") + (("test",) if test_days > 0 else ()):
        mask = windows[name]
        if mask.sum() == 0 or labels[mask].sum() <= 0:
            raise SystemExit(f"the {name} window has {int(mask.sum())} labelled transactions and {int((labels[mask] == 1).sum())} frauds: widen it")
    warnings = []
    if until is None:
        # Unlabelled rows among the last D days of labels: labelling still in progress there.
        tail = considered & (times >= known_end - delay) & (times < known_end)
        if (labels[tail] < 0).any():
            warnings.append(
                f"the last {delay_days:g} days of labels also hold unlabelled rows: if those labels are still coming in "
                "(frauds are often reported first), they over-represent fraud; --until hides them"
            )
    bounds = {
        "warnings": warnings,
        "warmup": [times[considered].min(), start],
        "fit": [start, fit_end],
        "valid": [valid_start, usable_end],
        "refit": [start, usable_end],
        "test": [test_start, known_end] if test_start is not None else None,
        "labels_known_until": known_end,
        "until": until,
        "unlabelled_rows": int((considered & ~labelled).sum()),
    }
    return windows, bounds


def describe(windows, bounds, labels):
    """One line per window for the log and the model card."""
    count = lambda name: f"{int(windows[name].sum()):,} rows, {int((labels[windows[name]] == 1).sum()):,} frauds"
    lines = [
        f"fit {iso(bounds['fit'][0])} .. {iso(bounds['fit'][1])} ({count('fit')})",
        f"valid {iso(bounds['valid'][0])} .. {iso(bounds['valid'][1])} ({count('valid')})",
        f"refit {iso(bounds['refit'][0])} .. {iso(bounds['refit'][1])} ({count('refit')})",
    ]
    if bounds["test"] is not None:
        lines.append(f"test {iso(bounds['test'][0])} .. {iso(bounds['test'][1])} ({count('test')})")
    if bounds["unlabelled_rows"]:
        lines.append(f"{bounds['unlabelled_rows']:,} rows without a usable label: history only")
    lines += [f"warning: {w}" for w in bounds["warnings"]]
    return lines


def as_manifest(bounds):
    """The bounds as ISO strings, for the manifest."""
    out = {}
    for name in ("warmup", "fit", "valid", "refit", "test"):
        out[name] = None if bounds[name] is None else [iso(bounds[name][0]), iso(bounds[name][1])]
    out["labelsKnownUntil"] = iso(bounds["labels_known_until"])
    out["until"] = None if bounds["until"] is None else iso(bounds["until"])
    out["unlabelledRows"] = bounds["unlabelled_rows"]
    out["warnings"] = list(bounds["warnings"])
    return out


def counts(windows, labels):
    """Each window's rows and frauds (for the manifest and the card: what trained, not what the file holds)."""
    return {name: {"rows": int(mask.sum()), "frauds": int((labels[mask] == 1).sum())} for name, mask in windows.items() if mask.sum() > 0}
