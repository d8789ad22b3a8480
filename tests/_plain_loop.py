"""A reader's own model and loop, written with torch only (shared by the watch tests)."""
import numpy as np
import torch
import torch.nn as nn

import mfteach as mf


class PlainMF(nn.Module):
    """kind: 'embedding', 'bag' (EmbeddingBag, sparse) or 'parameter' (2-D nn.Parameter)."""

    def __init__(self, nu, ni, dim=16, *, biases=False, mean=0.0, std=0.1, kind="embedding",
                 const=None, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        P = torch.randn(nu, dim, generator=g) * std
        Q = torch.randn(ni, dim, generator=g) * std
        if const is not None:
            P.fill_(const); Q.fill_(const)
        self.kind = kind
        if kind == "embedding":
            self.users = nn.Embedding(nu, dim, _weight=P)
            self.items = nn.Embedding(ni, dim, _weight=Q)
        elif kind == "bag":
            self.users = nn.EmbeddingBag(nu, dim, mode="sum", sparse=True, _weight=P)
            self.items = nn.EmbeddingBag(ni, dim, mode="sum", sparse=True, _weight=Q)
        else:
            self.P = nn.Parameter(P)
            self.Q = nn.Parameter(Q)
        self.biases = biases
        if biases:
            self.user_bias = nn.Embedding(nu, 1, _weight=torch.zeros(nu, 1), sparse=kind == "bag")
            self.item_bias = nn.Embedding(ni, 1, _weight=torch.zeros(ni, 1), sparse=kind == "bag")
            self.mean = float(mean)

    def rows(self, u, i):
        if self.kind == "embedding":
            return self.users(u), self.items(i)
        if self.kind == "bag":
            return self.users(u.view(-1, 1)), self.items(i.view(-1, 1))
        return self.P[u], self.Q[i]

    def forward(self, u, i):
        p, q = self.rows(u, i)
        out = (p * q).sum(1)
        if self.biases:
            out = out + self.user_bias(u).squeeze(1) + self.item_bias(i).squeeze(1) + self.mean
        return out


def rmse(model, r, values=None):
    with torch.no_grad():
        pred = model(torch.as_tensor(r.users), torch.as_tensor(r.items)).double()
        y = torch.as_tensor(r.ratings if values is None else values, dtype=torch.float64)
        return float((pred - y).pow(2).mean().sqrt())


def fit(model, opt, train, val, *, epochs=8, batch=256, seed=0, rec=None, l2=0.0, centre=False,
        lr_at=None):
    """A plain loop: shuffled minibatches of MSE, optimizer.step, rec.epoch_end."""
    shift = float(train.ratings.mean()) if centre else 0.0
    u = torch.as_tensor(train.users)
    i = torch.as_tensor(train.items)
    r = torch.as_tensor(train.ratings, dtype=torch.float32) - shift
    g = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        if lr_at and epoch in lr_at:
            for grp in opt.param_groups:
                grp["lr"] = lr_at[epoch]
        order = torch.randperm(len(r), generator=g)
        for k in range(0, len(r), batch):
            j = order[k:k + batch]
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(u[j], i[j]), r[j])
            if l2:
                p, q = model.rows(u[j], i[j])
                loss = loss + l2 * (p.pow(2).sum(1).mean() + q.pow(2).sum(1).mean())
            loss.backward()
            opt.step()
        if rec is not None:
            rec.epoch_end(val_rmse=rmse(model, val, val.ratings - shift),
                          train_rmse=rmse(model, train, train.ratings - shift))
    return model
