"""More claims of lesson 01 (initialization.py is at its size limit); loaded by it.
Each experiment uses data seed = training seed = ``seed``."""
from __future__ import annotations

import numpy as np
import torch

from ...metrics import baseline_rmse
from . import claim
from .initialization import _data, _run


@claim("01.tryit-std01",
       "Going from N(0, 1) to N(0, 0.1), the predictions before training shrink into the 1–5 "
       "band, and validation ends below predicting the mean.",
       conditions="the panel's setup: notebook data with 5% cold items, dim 32, Adam lr 0.02, "
                  "L2 on the batch's rows λ = 0.05, 15 epochs; predictions on the validation pairs",
       expect="share of initial predictions inside [1, 5]: < 0.5 for N(0, 1), > 0.95 for "
              "N(0, 0.1); N(0, 0.1)'s final val RMSE < the mean predictor's")
def _tryit_std01(seed):
    split = _data(seed)
    v = split.val
    big, small = _run(seed), _run(seed, init="normal", init_std=0.1)
    inside = {k: float(((p := h.initial_predictions(v.users, v.items)) >= 1).mean()
                       - (p > 5).mean()) for k, h in (("N(0,1)", big), ("N(0,0.1)", small))}
    mean = baseline_rmse(split.train, split.val)
    return ({f"in 1–5 at init, {k}": x for k, x in inside.items()}
            | {"N(0,0.1) val": small.val_rmse[-1], "mean": mean},
            inside["N(0,1)"] < 0.5 and inside["N(0,0.1)"] > 0.95 and small.val_rmse[-1] < mean)


@claim("01.adam-step",
       "Under Adam every weight moves a step of order `lr` however small its gradient, down to "
       "Adam's eps (1e-8): about lr on the first step and 0.4–0.75·lr on the next few; from a "
       "1e-5 init the gradients (≈ 7e-9) are below eps and the steps are 0.3–0.75·lr — still "
       "orders of magnitude beyond SGD's lr·|gradient|.",
       conditions="a plain dot-product model on the notebook data's centred ratings, both tables "
                  "N(0, std²) with std 1e-3 and 1e-5, dim 32, mean squared error, batches of "
                  "4,096, Adam lr 0.02 (eps 1e-8), the first 5 steps; |Δw| averaged over the "
                  "weights of rows in the step's batch",
       expect="std 1e-3: step 1 mean |Δw|/lr in [0.85, 1.0], steps 2–5 in [0.35, 0.8], mean "
              "|gradient| < 1e-5; std 1e-5: every step in [0.25, 0.8] and mean |gradient| < 1e-8")
def _adam_step_claim(seed):
    a, b = _adam_step(seed, 1e-3)[0], _adam_step(seed, 1e-5)[0]
    ra, rb = [v for k, v in a.items() if "Δw" in k], [v for k, v in b.items() if "Δw" in k]
    ga, gb = a["step 1: mean |gradient|"], b["step 1: mean |gradient|"]
    out = {"std 1e-3: steps / lr": " ".join(f"{r:.2f}" for r in ra), "std 1e-3: |gradient|": ga,
           "std 1e-5: steps / lr": " ".join(f"{r:.2f}" for r in rb), "std 1e-5: |gradient|": gb}
    return out, (0.85 <= ra[0] <= 1.0 and all(0.35 <= r <= 0.8 for r in ra[1:]) and ga < 1e-5
                 and all(0.25 <= r <= 0.8 for r in rb) and gb < 1e-8)


def _adam_step(seed, std=1e-5):
    """Adam's first 5 steps from N(0, std²) tables: mean |Δw| / lr per step, and step 1's mean |g|."""
    tr = _data(seed).train
    torch.manual_seed(seed)
    u, i = torch.as_tensor(tr.users), torch.as_tensor(tr.items)
    z = torch.as_tensor(tr.ratings - tr.ratings.mean(), dtype=torch.float32)
    P = torch.nn.Parameter(std * torch.randn(int(u.max()) + 1, 32))
    Q = torch.nn.Parameter(std * torch.randn(int(i.max()) + 1, 32))
    lr, opt = 0.02, torch.optim.Adam([P, Q], lr=0.02)
    order = torch.randperm(len(z), generator=torch.Generator().manual_seed(seed))
    ratios, g1 = [], None
    for step in range(5):
        b = order[step * 4096:(step + 1) * 4096]
        before = (P.detach().clone(), Q.detach().clone())
        loss = (((P[u[b]] * Q[i[b]]).sum(1) - z[b]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        if g1 is None:
            g1 = float(torch.cat([P.grad[u[b].unique()].abs().flatten(),
                                  Q.grad[i[b].unique()].abs().flatten()]).mean())
        opt.step()
        d = torch.cat([(P.detach() - before[0])[u[b].unique()].abs().flatten(),
                       (Q.detach() - before[1])[i[b].unique()].abs().flatten()])
        ratios.append(float(d.mean()) / lr)
    out = {f"step {k + 1}: mean |Δw| / lr": r for k, r in enumerate(ratios)}
    out["step 1: mean |gradient|"] = g1
    return out, True
