"""What ``mf.watch`` costs per epoch of a plain PyTorch loop, on the MovieLens-100k shape.

    python benchmarks/bench_watch.py              # 7 rounds of 5 epochs each way, alternating
    python benchmarks/bench_watch.py --rounds 11 --epochs 5

The loop: 943 users × 1,682 items, 100k ratings (Zipf skew, 90/10 split), dim 32, nn.Embedding
tables with biases, Adam(lr=0.01), shuffled batches of 1,024, MSE, and the validation RMSE at the
end of each epoch (what a reader computes anyway). The same loop runs with and without the
recorder, alternating round by round so a busy machine slows both alike; the table shows
medians. Writes benchmarks/results/watch.json (with the machine's load average: the numbers are
only comparable on a quiet machine).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mfteach as mf  # noqa: E402

DIM, BATCH = 32, 1024


class MF(nn.Module):
    def __init__(self, nu, ni, mean, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.users = nn.Embedding(nu, DIM, _weight=0.1 * torch.randn(nu, DIM, generator=g))
        self.items = nn.Embedding(ni, DIM, _weight=0.1 * torch.randn(ni, DIM, generator=g))
        self.user_bias = nn.Embedding(nu, 1, _weight=torch.zeros(nu, 1))
        self.item_bias = nn.Embedding(ni, 1, _weight=torch.zeros(ni, 1))
        self.mean = mean

    def forward(self, u, i):
        return ((self.users(u) * self.items(i)).sum(1) + self.user_bias(u).squeeze(1)
                + self.item_bias(i).squeeze(1) + self.mean)


def one_run(split, epochs, watched):
    """Seconds per epoch (list) of the plain loop, with or without the recorder; and the
    seconds ``diagnose`` takes afterwards."""
    t, v = split.train, split.val
    model = MF(t.n_users, t.n_items, float(t.ratings.mean()))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    u, i, r = t.tensors()
    vu, vi, vr = v.tensors()
    g = torch.Generator().manual_seed(0)
    rec = mf.watch(model, opt, train=t) if watched else None
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = torch.randperm(len(r), generator=g)
        for k in range(0, len(r), BATCH):
            j = order[k:k + BATCH]
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(u[j], i[j]), r[j])
            loss.backward()
            opt.step()
        with torch.no_grad():
            val = float((model(vu, vi) - vr).pow(2).mean().sqrt())
        if rec is not None:
            rec.epoch_end(val_rmse=val)
        times.append(time.perf_counter() - t0)
    diag = 0.0
    if rec is not None:
        t0 = time.perf_counter()
        mf.diagnose(rec)
        diag = time.perf_counter() - t0
    return times, diag


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # one thread: steadier timings on a shared machine
    split = mf.random_split(mf.synthetic(943, 1682, 100_000, item_zipf=1.2, user_zipf=0.8,
                                         seed=0), val=0.1, test=0.0, seed=0)
    one_run(split, 1, True)   # warm-up: one-off imports and allocations
    per = {False: [], True: []}
    diag = []
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for watched in (False, True):
            times, d = one_run(split, args.epochs, watched)
            per[watched].append(statistics.median(times))
            if watched:
                diag.append(d)
    load.append(os.getloadavg()[0])
    plain, watched = statistics.median(per[False]), statistics.median(per[True])
    # the recorder's own work per epoch, timed directly (less noisy than the difference)
    t = split.train
    model = MF(t.n_users, t.n_items, 3.5)
    rec = mf.watch(model, torch.optim.Adam(model.parameters()), train=t)
    t0 = time.perf_counter()
    for _ in range(50):
        rec.epoch_end(val_rmse=1.0)
    epoch_end = (time.perf_counter() - t0) / 50
    out = {
        "shape": "943 users × 1,682 items, 100k ratings (90% train), dim 32, Adam, batch 1024",
        "rounds": args.rounds, "epochs_per_round": args.epochs,
        "epoch_s_without": plain, "epoch_s_with": watched,
        "overhead_pct": 100 * (watched - plain) / plain,
        "epoch_end_s": epoch_end, "epoch_end_pct_of_epoch": 100 * epoch_end / plain,
        "diagnose_s": statistics.median(diag),
        "all_epochs_s": {"without": per[False], "with": per[True]},
        "load_avg_1min": load, "cpu_threads": torch.get_num_threads(),
        "python": platform.python_version(), "torch": torch.__version__,
        "machine": platform.machine(), "cpus": os.cpu_count(),
    }
    print(f"{'':28s}{'median s/epoch':>16s}")
    print(f"{'plain loop':28s}{plain:16.4f}")
    print(f"{'plain loop + mf.watch':28s}{watched:16.4f}")
    print(f"overhead: {out['overhead_pct']:+.1f}% (difference of medians; noisy)")
    print(f"rec.epoch_end alone: {epoch_end * 1e3:.2f} ms = {out['epoch_end_pct_of_epoch']:.2f}% "
          f"of an epoch; mf.diagnose afterwards: {out['diagnose_s']:.2f} s")
    print(f"load average (1 min) before/after: {load[0]:.2f} / {load[1]:.2f}")
    dest = Path(__file__).resolve().parent / "results" / "watch.json"
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
