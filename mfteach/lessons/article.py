"""The article this course answers — "What causes embedding errors in PyTorch matrix
factorization?" (shared/seed/000_e59460e7b71bc8c6.txt) — its three code examples quoted
literally and run as written, with only the glue the article leaves out, shown as glue.

``EXAMPLE_1..3`` are the article's code blocks, character for character (a test compares them with
the article when it is beside the project). ``run_example(n, ns)`` executes one in the namespace
``ns``, as a reader pasting it into a notebook would; ``article_glue(split)`` is everything the
article does not define: its data as ``ratings.csv`` with its column names, ``num_epochs``, and a
``data_loader`` of (user_ids, item_ids, ratings) batches.
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

from ..data import Ratings, Split, synthetic
from ..splits import random_split
from ..config import TrainConfig
from .common import trained

__all__ = ["EXAMPLE_1", "EXAMPLE_2", "EXAMPLE_3", "EXAMPLES", "run_example", "article_data",
           "article_glue", "BatchLoader", "fill_missing_demo"]

# The article's code, verbatim (its Example 2 refers to Example 1 for the MF class and sizes).
EXAMPLE_1 = '''\
import torch
import torch.nn as nn

class MF(nn.Module):
    def __init__(self, num_users, num_items, embedding_dim):
        super(MF, self).__init__()
        self.user_embeddings = nn.Embedding(num_users, embedding_dim)
        self.item_embeddings = nn.Embedding(num_items, embedding_dim)
        nn.init.xavier_uniform_(self.user_embeddings.weight)
        nn.init.xavier_uniform_(self.item_embeddings.weight)

    def forward(self, user_ids, item_ids):
        user_emb = self.user_embeddings(user_ids)
        item_emb = self.item_embeddings(item_ids)
        return torch.sum(user_emb * item_emb, dim=1)

# Example usage:
num_users = 1000
num_items = 500
embedding_dim = 64
model = MF(num_users, num_items, embedding_dim)
'''

EXAMPLE_2 = '''\
import torch
import torch.nn as nn
import torch.optim as optim

# ... (MF class definition from Example 1) ...

# Example usage with L2 regularization:
model = MF(num_users, num_items, embedding_dim)
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.001, weight_decay=0.01) # weight_decay adds L2 regularization

# Training loop (simplified):
for epoch in range(num_epochs):
    for user_ids, item_ids, ratings in data_loader:
        optimizer.zero_grad()
        predictions = model(user_ids, item_ids)
        loss = criterion(predictions, ratings)
        loss.backward()
        optimizer.step()
'''

EXAMPLE_3 = '''\
import pandas as pd
import numpy as np
from sklearn.preprocessing import StandardScaler

# Load data (assuming a pandas DataFrame)
data = pd.read_csv('ratings.csv')

# Handle missing values (example: imputation with mean)
data.fillna(data.mean(), inplace=True)

# Scale user and item ratings using StandardScaler
scaler = StandardScaler()
data['user_rating'] = scaler.fit_transform(data['user_rating'].values.reshape(-1, 1))

# ... (Rest of the data preprocessing and model training) ...
'''
EXAMPLES = {1: EXAMPLE_1, 2: EXAMPLE_2, 3: EXAMPLE_3}


def run_example(n: int, ns: dict | None = None, *, folder=None) -> dict:
    """Run the article's Example ``n`` as written in namespace ``ns`` (kept between examples,
    like notebook cells), inside ``folder`` (default: ``ns["folder"]`` if set; the working
    directory is restored afterwards); returns the namespace."""
    if n not in EXAMPLES:
        raise ValueError(f"n must be 1, 2 or 3 (the article's examples), got {n!r}")
    ns = {} if ns is None else ns
    folder = folder or ns.get("folder")
    old = os.getcwd()
    try:
        if folder:
            os.chdir(folder)  # Example 3 reads 'ratings.csv' from the current folder
        exec(compile(EXAMPLES[n], f"<article example {n}>", "exec"), ns)  # noqa: S102
    finally:
        os.chdir(old)
    return ns


def article_data(seed=0, n_ratings=40_000, **kw) -> Split:
    """Ratings sized for the article's Example 1 (num_users = 1000, num_items = 500), so its code
    runs unchanged: a known rank-4 model with popularity skew, split 80/10/10."""
    kw = {"item_zipf": 1.2, "user_zipf": 0.8, **kw}
    return random_split(synthetic(1000, 500, n_ratings, seed=seed, **kw), seed=seed)


class BatchLoader:
    """A ``data_loader`` for the article's loop: shuffled (user_ids, item_ids, ratings) batches of
    the raw training ratings, sliced from tensors made once. It yields the very batches of
    ``DataLoader(TensorDataset(...), batch_size=None, sampler=BatchSampler(RandomSampler(...,
    generator=torch.Generator().manual_seed(seed)), batch_size, drop_last=False))`` — the same
    seeded permutation per epoch, cut the same way — without fetching each batch through a list
    of Python ints (~3× less time per epoch; tests/test_lessons.py checks they are equal) when
    ``like_random_sampler`` is true: RandomSampler draws a second permutation at the end of every
    epoch (for ``num_samples % n`` extra indices, none here) and throws it away, so its next
    epoch's order differs from one permutation per epoch (notebook 01's loop, the default)."""

    def __init__(self, ratings, batch_size=1024, seed=0, like_random_sampler=False):
        import torch

        self.t = (torch.as_tensor(ratings.users), torch.as_tensor(ratings.items),
                  torch.as_tensor(ratings.ratings, dtype=torch.float32))
        self.batch_size, self.g = batch_size, torch.Generator().manual_seed(seed)
        self.like_random_sampler = bool(like_random_sampler)

    def __len__(self):
        return -(-len(self.t[0]) // self.batch_size)

    def __iter__(self):
        import torch

        perm = torch.randperm(len(self.t[0]), generator=self.g)
        for s in range(0, len(perm), self.batch_size):
            idx = perm[s:s + self.batch_size]
            if self.like_random_sampler and s + self.batch_size >= len(perm):
                torch.randperm(len(perm), generator=self.g)  # RandomSampler's discarded draw
            yield tuple(x[idx] for x in self.t)


def article_glue(split: Split, *, num_epochs=20, batch_size=1024, seed=0, folder=None) -> dict:
    """What the article leaves out, as a namespace its examples run in: ``num_epochs``, a
    ``data_loader`` over the training ratings (raw 1–5, as the article's model sees them:
    shuffled batches of ``batch_size``, see ``BatchLoader``), and the current folder holding
    ``ratings.csv`` with columns user_id, item_id, user_rating."""
    import pandas as pd

    tr = split.train
    loader = BatchLoader(tr, batch_size, seed=seed, like_random_sampler=True)
    folder = folder or tempfile.mkdtemp(prefix="mfteach-article-")
    pd.DataFrame({"user_id": tr.users, "item_id": tr.items, "user_rating": tr.ratings}).to_csv(
        os.path.join(folder, "ratings.csv"), index=False)
    return {"num_epochs": num_epochs, "data_loader": loader, "folder": folder}


def fill_missing_demo(split, epochs=2):
    """A pitfall next to the article's Example 3 (which is NOT this: it fills a long-format
    file with its column means, which changes nothing): pivot to a dense user × item table, fill
    the holes with 0, then StandardScaler. Returns what that does to the training targets and
    the validation RMSE of a model trained on the filled table."""
    import pandas as pd

    tr = split.train
    table = pd.DataFrame({"user": tr.users, "item": tr.items, "rating": tr.ratings}).pivot(
        index="user", columns="item", values="rating").reindex(
        index=range(tr.n_users), columns=range(tr.n_items))
    missing = float(table.isna().to_numpy().mean())
    filled = table.fillna(0)                         # "no rating" becomes 0 stars
    values = filled.to_numpy()                       # (n_users, n_items)
    uu, ii = np.nonzero(np.ones_like(values, bool))
    dense = Ratings(uu, ii, values.ravel(), n_users=tr.n_users, n_items=tr.n_items,
                    name="zero-filled table")
    # normalize="zscore" is StandardScaler on the rating column (of the filled table)
    h = trained(Split(dense, split.val, split.test),  # kept: later kernels read it back
                TrainConfig(epochs=epochs, batch_size=65_536, normalize="zscore", lr=0.02))
    return {"missing share": missing, "mean of the filled table": float(filled.to_numpy().mean()),
            "mean of the real ratings": float(tr.ratings.mean()), "val RMSE": h.val_rmse[-1],
            "train cells": len(dense)}


def example3_as_written(seed=0) -> dict:
    """Run the article's Example 3 exactly as written on ``article_data(seed)``'s ``ratings.csv``
    (long format: one row per rating, as the article's model consumes it) and measure what it
    did: missing values before and after ``fillna(data.mean())``, cells the fill changed, and what
    ``StandardScaler`` made of ``user_rating`` (mean, std, and whether it is one affine map)."""
    import pandas as pd

    ns = article_glue(article_data(seed), seed=seed)
    before = pd.read_csv(os.path.join(ns["folder"], "ratings.csv"))
    run_example(3, ns)
    after, r0 = ns["data"], before["user_rating"].to_numpy()
    r1 = after["user_rating"].to_numpy()
    a, b = np.polyfit(r0, r1, 1)
    ids_same = bool((after[["user_id", "item_id"]].to_numpy() ==
                     before[["user_id", "item_id"]].to_numpy()).all())
    return {"rows": len(before), "missing before": int(before.isna().sum().sum()),
            "missing after": int(after.isna().sum().sum()), "ids unchanged": ids_same,
            "rating mean before": float(r0.mean()), "rating std before": float(r0.std()),
            "rating mean after": float(r1.mean()), "rating std after": float(r1.std()),
            "scale a": float(a), "shift b": float(b),
            "max error of a·r + b": float(np.abs(a * r0 + b - r1).max())}
