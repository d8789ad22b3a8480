"""Lesson 02's checker for the hand-written penalty step: it runs the learner's step next to the
reference and next to the usual slips, and names the slip whose update the learner's matches."""
from __future__ import annotations

import copy

__all__ = ["reference_step", "check_penalty_step"]

LR, LAM = 0.5, 0.3


def _step(model, opt, u, i, r, lam, *, penalty="rows", mse="mean", reduce="mean", zero=True):
    """One SGD step of MSE + a penalty, written the right way or with one named slip."""
    pred, p, q = model.forward_parts(u, i)
    err = (pred - r) ** 2
    loss = err.mean() if mse == "mean" else err.sum()
    if penalty == "rows":
        per = (p * p).sum(1) + (q * q).sum(1)
    elif penalty == "no_sum1":
        per = (p * p).mean(1) + (q * q).mean(1)
    elif penalty == "norm":
        per = p.norm(dim=1) + q.norm(dim=1)
    elif penalty == "abs":
        per = p.abs().sum(1) + q.abs().sum(1)
    elif penalty == "bias":
        per = (p * p).sum(1) + (q * q).sum(1) + model.user_bias(u).squeeze(1) ** 2 \
            + model.item_bias(i).squeeze(1) ** 2
    else:  # "none"
        per = 0 * r
    pen = per.mean() if reduce == "mean" else per.sum()
    if reduce == "half":
        pen = per.mean() / 2
    loss = loss + lam * pen
    if zero:
        opt.zero_grad()
    loss.backward()
    opt.step()


def reference_step(model, opt, u, i, r, lam):
    _step(model, opt, u, i, r, lam)


# slip name → (how the slip's step differs, the message that names it)
SLIPS = {
    "half": (dict(reduce="half"), "off by a factor 2: this exercise uses λ, not λ/2 (the λ/2·‖w‖² "
             "form of notebook 02 §4 gives a gradient λ·w; here the penalty is λ·‖w‖², gradient 2λ·w)"),
    "sum_batch": (dict(reduce="sum"), "your penalty is summed over the batch (.sum()) instead of "
                  "averaged (.mean()): it grows with the batch size"),
    "no_sum1": (dict(penalty="no_sum1"), "your penalty averages over the embedding dimension: "
                "a row's squared norm is (p ** 2).sum(1), not .mean(1)"),
    "norm": (dict(penalty="norm"), "your penalty uses ‖p‖, not ‖p‖²: square the norm"),
    "abs": (dict(penalty="abs"), "that is an L1 penalty (|p|): the classic MF penalty squares"),
    "bias": (dict(penalty="bias"), "your penalty also covers the bias terms: penalise only the "
             "embedding rows p_u = model.user_factors(u) and q_i = model.item_factors(i)"),
    "mse_sum": (dict(mse="sum"), "your squared error is summed over the batch: use .mean()"),
    "none": (dict(penalty="none"), "your step is a plain MSE step: the penalty is missing (or λ "
             "is ignored)"),
}


def _weights(m):
    return [t.detach().clone() for t in m.parameters()]


def _same(a, b, atol=1e-5):
    import torch

    return all(torch.allclose(x, y, atol=atol, rtol=1e-4) for x, y in zip(a, b))


def _run(fn, base, batches):
    """The weights after each of ``batches`` steps of ``fn`` on a copy of ``base``."""
    import torch

    m = copy.deepcopy(base)
    opt = torch.optim.SGD(m.parameters(), lr=LR)
    out = []
    for u, i, r in batches:
        fn(m, opt, u, i, r, LAM)
        out.append(_weights(m))
    return out


def check_penalty_step(step):
    import torch

    from ..model import MF

    if not callable(step):
        return False, "pass your function train_step(model, opt, u, i, r, lam)"
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randint(0, 30, (64,), generator=g), torch.randint(0, 20, (64,), generator=g),
                torch.randn(64, generator=g)) for _ in range(2)]
    base = MF(40, 50, 8, seed=0)  # users 30-39 and items 20-49 are never in a batch
    with torch.no_grad():  # non-zero biases, so a penalty on them shows in the update
        for b in base.bias_parameters():
            b.copy_(torch.randn(b.shape, generator=g) * 0.5)
    start = _weights(base)
    yours = _run(step, base, batches)
    ref = _run(reference_step, base, batches)
    k = [n for n, _ in base.named_parameters()].index("item_factors.weight")
    Q0, Qy = start[k], yours[0][k]
    if _same(yours[0], start, atol=0):
        return False, "the weights did not change: call loss.backward() and opt.step()"
    if not torch.allclose(Qy[20:], Q0[20:]):
        return False, ("rows that are NOT in the batch changed: your penalty covers every row "
                       "(that is 'L2 on all rows'); use only the batch's rows p = P[u], q = Q[i]")
    if _same(yours[0], ref[0]):
        if _same(yours[1], ref[1]):
            return True, ("same update as λ·mean over the batch of (‖p_u‖² + ‖q_i‖²), step "
                          "after step")
        if _same(yours[1], _run(lambda *a: _step(*a, zero=False), base, batches)[1]):
            return False, ("the first step is right, the second is not: you forgot "
                           "opt.zero_grad(), so the second step adds the first one's gradients")
        return False, "the first step is right but the second differs: does your step keep state?"
    for kw, why in SLIPS.values():
        if _same(yours[0], _run(lambda *a, kw=kw: _step(*a, **kw), base, batches[:1])[0]):
            return False, why
    return False, ("the update differs from λ·mean_b(‖p_u‖² + ‖q_i‖²): check that you square, "
                   "sum over the embedding dimension, then average over the batch, and add it "
                   "to the mean squared error")
