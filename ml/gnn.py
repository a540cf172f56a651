"""GraphSAGE for the fraud model, in plain torch (no torch-geometric), and the stacked ensemble.

The inputs are written by `npm run features -- --graph FILE` from the same TypeScript code the fraud Lambda
runs (lambdas/fraud/graph.ts): per transaction, its feature vector, the customer's and the terminal's
snapshots, and the snapshots stored on their K most recent edges. The architecture here must equal the
forward pass in graph.ts (`GraphSageModel`); `export_weights` writes the JSON it loads:

    h1(v)  = ReLU(W1[type v] z(v) + b)                     layer 1, per node type (customer, terminal, device)
    h2(v)  = ReLU(W2[type v] [h1(v) | mean_u h1(z_u)])     layer 2, mean over v's neighbour edges (0 if none)
    logit  = w ReLU(W3 [h2(c) | h2(t) | h2(d) | f] + b3) + b
                                                           h2(d) = 0 without a device; f: standardised features

Used by ml/train.py. Only numpy and torch (Debian: python3-numpy, python3-torch).
"""

import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn


def load_graph(path, rows):
    """The float32 rows written by `npm run features --graph` and their layout (path + '.json')."""
    with open(path + ".json") as handle:
        layout = json.load(handle)
    if layout.get("format") != 2:
        raise SystemExit(f"{path}.json: unknown graph layout format {layout.get('format')!r}")
    data = np.fromfile(path, dtype="<f4")
    width = layout["width"]
    if data.size != rows * width:
        raise SystemExit(f"{path}: {data.size} values, expected {rows} rows of {width} (written with the features CSV?)")
    return layout, data.reshape(rows, width)


def slog1p(x):
    return np.sign(x) * np.log1p(np.abs(x))


class GraphSage(nn.Module):
    def __init__(self, features, customer_snapshot, terminal_snapshot, device_snapshot, hidden=32, head=32):
        super().__init__()
        self.customer1 = nn.Linear(customer_snapshot, hidden)
        self.terminal1 = nn.Linear(terminal_snapshot, hidden)
        self.device1 = nn.Linear(device_snapshot, hidden)
        self.customer2 = nn.Linear(2 * hidden, hidden)
        self.terminal2 = nn.Linear(2 * hidden, hidden)
        self.device2 = nn.Linear(2 * hidden, hidden)
        self.head = nn.Linear(3 * hidden + features, head)
        self.out = nn.Linear(head, 1)

    @staticmethod
    def _mean(h, count):
        k = h.shape[1]
        mask = (torch.arange(k, device=h.device)[None, :] < count[:, None]).to(h.dtype)
        return (h * mask[..., None]).sum(1) / count.clamp(min=1)[:, None]

    def forward(self, f, zc, zt, cn, tn, nc, nt, has_device, zd, dn, nd):
        relu = torch.relu
        h1c, h1t, h1d = relu(self.customer1(zc)), relu(self.terminal1(zt)), relu(self.device1(zd))
        # The customer's neighbours are terminals; the terminal's and the device's are customers.
        mc = self._mean(relu(self.terminal1(cn)), nc)
        mt = self._mean(relu(self.customer1(tn)), nt)
        md = self._mean(relu(self.customer1(dn)), nd)
        h2c = relu(self.customer2(torch.cat([h1c, mc], 1)))
        h2t = relu(self.terminal2(torch.cat([h1t, mt], 1)))
        h2d = relu(self.device2(torch.cat([h1d, md], 1))) * has_device[:, None]
        return self.out(relu(self.head(torch.cat([h2c, h2t, h2d, f], 1)))).squeeze(-1)


class Inputs:
    """Splits the graph rows into the model's tensors, with the features standardised."""

    def __init__(self, layout, rows, mean, std):
        o = layout["offsets"]
        k, sc, st = layout["k"], layout["customerSnapshot"], layout["terminalSnapshot"]
        raw = rows[:, o["features"][0] : o["features"][1]].astype(np.float64)
        f = (slog1p(raw) - mean) / std
        f[np.isnan(raw)] = 0.0
        self.f = torch.from_numpy(f.astype(np.float32))
        part = lambda name: torch.from_numpy(np.ascontiguousarray(rows[:, o[name][0] : o[name][1]]))
        self.zc, self.zt = part("customer"), part("terminal")
        self.cn = part("customer_neighbours").reshape(-1, k, st)
        self.tn = part("terminal_neighbours").reshape(-1, k, sc)
        self.nc = part("customer_neighbour_count")[:, 0]
        self.nt = part("terminal_neighbour_count")[:, 0]
        self.has_device = part("has_device")[:, 0]
        self.zd = part("device")
        self.dn = part("device_neighbours").reshape(-1, k, sc)
        self.nd = part("device_neighbour_count")[:, 0]

    def batch(self, index):
        return (
            self.f[index], self.zc[index], self.zt[index], self.cn[index], self.tn[index], self.nc[index], self.nt[index],
            self.has_device[index], self.zd[index], self.dn[index], self.nd[index],
        )

    def __len__(self):
        return len(self.f)


def standardisation(layout, rows):
    """Mean and std of each feature's signed log over the rows, ignoring missing values (a feature missing
    everywhere, such as first_seen_device without devices, gets 0 and 1)."""
    o = layout["offsets"]
    raw = rows[:, o["features"][0] : o["features"][1]].astype(np.float64)
    x = slog1p(raw)
    present = ~np.isnan(x)
    n = present.sum(axis=0)
    filled = np.where(present, x, 0.0)
    mean = np.divide(filled.sum(axis=0), n, out=np.zeros(x.shape[1]), where=n > 0)
    variance = np.divide((np.where(present, x - mean, 0.0) ** 2).sum(axis=0), n, out=np.zeros(x.shape[1]), where=n > 0)
    std = np.sqrt(variance)
    std[~(std > 1e-6)] = 1.0
    return mean, std


def logits(model, inputs, batch=8192):
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(inputs), batch):
            out.append(model(*inputs.batch(slice(start, start + batch))).numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


class Trained:
    """A trained GraphSAGE with its input standardisation and the number of epochs it stands for."""

    def __init__(self, model, mean, std, epochs):
        self.model, self.mean, self.std, self.epochs = model, mean, std, epochs


def eta(done, total, elapsed):
    """`ETA 12 s` (or minutes) from the share of the work done so far (done > 0); ml/train.py uses it too."""
    remaining = elapsed / done * max(0, total - done) if done else float("nan")
    return f"ETA {remaining:.0f} s" if remaining < 120 else f"ETA {remaining / 60:.1f} min"


def train(layout, rows, labels, train_mask, valid_mask, score, seed=7, epochs=12, patience=3, hidden=32, batch=512, lr=2e-3, threads=2, log=print, every=10.0):
    """Trains on the labelled train rows (label 0/1; rows without a label never enter the loss).

    With `valid_mask`, keeps the epoch with the best validation average precision (`score`) and stops after
    `patience` epochs without gain; without it (the refit), trains exactly `epochs` epochs. Progress with an
    ETA every `every` seconds within an epoch, and a line per epoch."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    train_mask = train_mask & (labels >= 0)
    mean, std = standardisation(layout, rows[train_mask])
    x_train = Inputs(layout, rows[train_mask], mean, std)
    x_valid = Inputs(layout, rows[valid_mask], mean, std) if valid_mask is not None else None
    y_train = torch.from_numpy(labels[train_mask].astype(np.float32))
    y_valid = labels[valid_mask] if valid_mask is not None else None
    model = GraphSage(x_train.f.shape[1], layout["customerSnapshot"], layout["terminalSnapshot"], layout["deviceSnapshot"], hidden=hidden)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-5)
    loss_fn = nn.BCEWithLogitsLoss()
    best, best_state, best_epoch, stale = -1.0, None, 0, 0
    batches = (len(x_train) + batch - 1) // batch
    run_started = time.time()
    for epoch in range(1, epochs + 1):
        started = last = time.time()
        model.train()
        order = torch.from_numpy(rng.permutation(len(x_train)))
        total = 0.0
        for b, start in enumerate(range(0, len(order), batch), start=1):
            index = order[start : start + batch]
            optimiser.zero_grad()
            loss = loss_fn(model(*x_train.batch(index)), y_train[index])
            loss.backward()
            optimiser.step()
            total += float(loss) * len(index)
            now = time.time()
            if now - last >= every:
                last = now
                log(f"    epoch {epoch}: batch {b:,}/{batches:,}, {eta(b, batches, now - started)} for the epoch")
        elapsed = time.time() - started
        left = f", {eta(epoch, epochs, time.time() - run_started)} at most" if epoch < epochs else ""
        if x_valid is None:
            log(f"  graphsage epoch {epoch}/{epochs}: loss {total / len(x_train):.5f} ({elapsed:.1f} s{left})")
            continue
        ap = score(y_valid, logits(model, x_valid))
        log(f"  graphsage epoch {epoch}/{epochs}: loss {total / len(x_train):.5f}, validation AP {ap:.4f} ({elapsed:.1f} s{left})")
        if ap > best:
            best, best_epoch, stale = ap, epoch, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                break
    if x_valid is None:
        return Trained(model, mean, std, epochs)
    model.load_state_dict(best_state)
    return Trained(model, mean, std, best_epoch)


def _dense(layer):
    return {"weight": layer.weight.detach().double().numpy().tolist(), "bias": layer.bias.detach().double().numpy().tolist()}


def export_weights(model, layout, names, mean, std):
    """The JSON lambdas/fraud/graph.ts loads (GraphSageWeights)."""
    return {
        "kind": "graphsage",
        "format": 1,
        "k": layout["k"],
        "hidden": model.customer1.out_features,
        "features": list(names),
        "input": {"mean": [float(v) for v in mean], "std": [float(v) for v in std]},
        "customer": {"layer1": _dense(model.customer1), "layer2": _dense(model.customer2)},
        "terminal": {"layer1": _dense(model.terminal1), "layer2": _dense(model.terminal2)},
        "device": {"layer1": _dense(model.device1), "layer2": _dense(model.device2)},
        "head": {"hidden": _dense(model.head), "out": _dense(model.out)},
    }


def golden_inputs(layout, row):
    """One graph row as the TS GraphInputs (neighbour lists cut to their counts) plus the feature vector."""
    o, k = layout["offsets"], layout["k"]
    sc, st = layout["customerSnapshot"], layout["terminalSnapshot"]
    get = lambda name: row[o[name][0] : o[name][1]]
    nc, nt = int(get("customer_neighbour_count")[0]), int(get("terminal_neighbour_count")[0])
    as_list = lambda a: [float(v) for v in a]
    inputs = {
        "features": [None if math.isnan(v) else float(v) for v in get("features")],
        "customer": as_list(get("customer")),
        "terminal": as_list(get("terminal")),
        "customerNeighbours": [as_list(z) for z in get("customer_neighbours").reshape(k, st)[:nc]],
        "terminalNeighbours": [as_list(z) for z in get("terminal_neighbours").reshape(k, sc)[:nt]],
    }
    if get("has_device")[0] == 1:
        nd = int(get("device_neighbour_count")[0])
        inputs["device"] = as_list(get("device"))
        inputs["deviceNeighbours"] = [as_list(z) for z in get("device_neighbours").reshape(k, sc)[:nd]]
    return inputs


def fit_stacker(margins, labels, l2=1e-3, iterations=50):
    """Logistic regression of the labels on the models' log-odds (columns of `margins`), by Newton's method."""
    x = np.c_[margins, np.ones(len(margins))]
    w = np.zeros(x.shape[1])
    penalty = np.diag([l2] * margins.shape[1] + [0.0])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(x @ w)))
        gradient = x.T @ (p - labels) + penalty @ w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return {"weights": [float(v) for v in w[:-1]], "bias": float(w[-1])}


def stack(stacker, margins):
    return 1 / (1 + np.exp(-(margins @ np.array(stacker["weights"]) + stacker["bias"])))


if __name__ == "__main__":
    sys.exit("ml/gnn.py is a module of ml/train.py; run npm run train")
