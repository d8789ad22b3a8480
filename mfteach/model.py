"""Matrix factorization as a ``torch.nn.Module``, and embedding init schemes by name.

    prediction(u, i) = <P[u], Q[i]> + b_u[u] + b_i[i] + g

The init schemes are the real ``torch.nn.init`` calls on the real (rows, dim) weight tensors, so
their true behaviour shows: Xavier treats a (n_rows, dim) weight as fan_in = dim,
fan_out = n_rows, so its std depends on how many rows the table has.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MF", "INIT_SCHEMES", "init_embedding_", "init_std", "expected_initial_rmse", "predict_rows"]

# name → what it is (shown in dropdowns and errors)
INIT_SCHEMES = {
    "default": "PyTorch default N(0, 1) — what torch.randn and a bare nn.Embedding give",
    "normal": "N(0, std²) with the std you choose",
    "uniform": "U(-a, a) with a = std·√3, so its std is the one you choose",
    "xavier_uniform": "nn.init.xavier_uniform_: std = √(2/(rows + dim))",
    "xavier_normal": "nn.init.xavier_normal_: std = √(2/(rows + dim))",
    "kaiming": "nn.init.kaiming_normal_ (He): std = √2/√dim, independent of rows",
    "zeros": "all zeros",
    "constant": "every weight = value",
}


def init_embedding_(weight: torch.Tensor, scheme="normal", *, std=0.1, value=0.1,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Initialise a (rows, dim) weight in place with ``scheme`` using ``generator``."""
    init = nn.init
    with torch.no_grad():
        if scheme == "default":
            init.normal_(weight, 0.0, 1.0, generator=generator)
        elif scheme == "normal":
            init.normal_(weight, 0.0, std, generator=generator)
        elif scheme == "uniform":
            a = std * math.sqrt(3.0)
            init.uniform_(weight, -a, a, generator=generator)
        elif scheme == "xavier_uniform":
            init.xavier_uniform_(weight, generator=generator)
        elif scheme == "xavier_normal":
            init.xavier_normal_(weight, generator=generator)
        elif scheme == "kaiming":
            init.kaiming_normal_(weight, generator=generator)
        elif scheme == "zeros":
            init.zeros_(weight)
        elif scheme == "constant":
            init.constant_(weight, value)
        else:
            raise ValueError(f"init must be one of {list(INIT_SCHEMES)}, got {scheme!r}")
    return weight


def init_std(scheme, rows, dim, *, std=0.1, value=0.1) -> float:
    """The std a scheme gives a (rows, dim) table, from PyTorch's own fan computation."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"init must be one of {list(INIT_SCHEMES)}, got {scheme!r}")
    # torch's fan rule for a 2-D weight: fan_in = size(1) = dim, fan_out = size(0) = rows
    fan_in, fan_out = dim, rows
    return {
        "default": 1.0, "normal": std, "uniform": std,
        "xavier_uniform": math.sqrt(2.0 / (fan_in + fan_out)),
        "xavier_normal": math.sqrt(2.0 / (fan_in + fan_out)),
        "kaiming": math.sqrt(2.0) / math.sqrt(fan_in),
        "zeros": 0.0, "constant": 0.0,  # a constant table has zero spread (every weight = value)
    }[scheme]


def expected_initial_rmse(scheme, dim, n_users, n_items, rating_var, *, std=0.1,
                          value=0.1) -> float:
    """RMSE before any step, when the global bias starts at the mean and other biases at 0.

    The error is <p, q> minus the rating's deviation from the mean. For zero-mean inits with
    stds σ_u, σ_v, E[<p, q>²] = dim·σ_u²·σ_v², so RMSE ≈ √(dim·σ_u²·σ_v² + Var(r)) —
    √(dim + 1) for N(0, 1) on unit-variance ratings. A constant init c gives <p, q> = dim·c².
    """
    if scheme == "constant":
        return math.sqrt((dim * value * value) ** 2 + rating_var)
    su, sv = init_std(scheme, n_users, dim, std=std), init_std(scheme, n_items, dim, std=std)
    return math.sqrt(dim * su * su * sv * sv + rating_var)


class MF(nn.Module):
    """Matrix factorization with optional biases and sparse embeddings.

    n_users, n_items: table sizes. dim: embedding size.
    user_bias / item_bias / global_bias: which bias terms to learn.
    global_init: start value of the global bias — pass the training mean, since starting it at 0
        costs about mean/lr optimizer steps before predictions reach the right level.
    sparse: ``nn.Embedding(sparse=True)`` tables (needed by SparseAdam); dense otherwise.
    init, init_std, init_value: the factors' init scheme (see INIT_SCHEMES); biases start at 0.
    seed: seeds a private torch.Generator; the global RNG is never touched.
    """

    def __init__(self, n_users, n_items, dim=32, *, user_bias=True, item_bias=True,
                 global_bias=True, global_init=0.0, sparse=False, init="normal", init_std=0.1,
                 init_value=0.1, seed=0, device="cpu"):
        super().__init__()
        for pname, v in (("n_users", n_users), ("n_items", n_items), ("dim", dim)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{pname} must be a positive integer, got {v!r}")
        if init not in INIT_SCHEMES:
            raise ValueError(f"init must be one of {list(INIT_SCHEMES)}, got {init!r}")
        self.sparse = bool(sparse)
        # _weight=... skips nn.Embedding's own reset_parameters, which would draw from the
        # global RNG; we initialise from our own generator below instead.
        def emb(rows, cols):
            return nn.Embedding(rows, cols, sparse=self.sparse,
                                _weight=torch.empty(rows, cols, device=device))
        self.user_factors = emb(n_users, dim)   # P: (n_users, dim)
        self.item_factors = emb(n_items, dim)   # Q: (n_items, dim)
        self.user_bias = emb(n_users, 1) if user_bias else None
        self.item_bias = emb(n_items, 1) if item_bias else None
        self.global_bias = (nn.Parameter(torch.tensor(float(global_init), device=device))
                            if global_bias else None)
        self.init_scheme = init
        g = torch.Generator(device=device).manual_seed(int(seed))
        init_embedding_(self.user_factors.weight, init, std=init_std, value=init_value, generator=g)
        init_embedding_(self.item_factors.weight, init, std=init_std, value=init_value, generator=g)
        for b in (self.user_bias, self.item_bias):
            if b is not None:
                nn.init.zeros_(b.weight)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        # users, items: (B,) long → (B,) predictions
        return self.forward_parts(users, items)[0]

    def forward_parts(self, users, items):
        """(predictions (B,), user rows P[u] (B, dim), item rows Q[i] (B, dim)).

        The rows are returned too so a penalty on "the rows in the batch" reuses them.
        """
        if self.sparse:  # F.embedding gives the sparse gradients SparseAdam needs
            p, q = self.user_factors(users), self.item_factors(items)                 # (B, dim)
            out = (p * q).sum(1)                                                       # (B,)
            if self.user_bias is not None:
                out = out + self.user_bias(users).squeeze(1)
            if self.item_bias is not None:
                out = out + self.item_bias(items).squeeze(1)
        else:  # index_select: same maths and dense gradient, ~2x faster backward on CPU
            p = self.user_factors.weight.index_select(0, users)                      # (B, dim)
            q = self.item_factors.weight.index_select(0, items)                      # (B, dim)
            out = (p * q).sum(1)                                                       # (B,)
            if self.user_bias is not None:
                out = out + self.user_bias.weight.view(-1).index_select(0, users)
            if self.item_bias is not None:
                out = out + self.item_bias.weight.view(-1).index_select(0, items)
        if self.global_bias is not None:
            out = out + self.global_bias
        return out, p, q

    def factor_parameters(self):
        return [self.user_factors.weight, self.item_factors.weight]

    def bias_parameters(self):
        return [t.weight for t in (self.user_bias, self.item_bias) if t is not None] + \
            ([self.global_bias] if self.global_bias is not None else [])

    def __repr__(self):
        n_u, d = self.user_factors.weight.shape
        biases = [n for n, b in (("user", self.user_bias), ("item", self.item_bias),
                                 ("global", self.global_bias)) if b is not None]
        return (f"MF({n_u} users, {self.item_factors.weight.shape[0]} items, dim {d}, "
                f"biases: {', '.join(biases) or 'none'}, init {self.init_scheme!r}"
                f"{', sparse' if self.sparse else ''})")


PREDICT_ROWS = 4096  # ratings per piece in predict_rows


def predict_rows(model: MF, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """``model(users, items)`` without gradients, PREDICT_ROWS ratings at a time: the same numbers
    (each prediction is its own row's sum), but no (N, dim) temporaries: at 20k ratings those made
    a forward pass 7x slower per rating (fresh memory pages), a quarter of a notebook run's time."""
    n = len(users)
    with torch.no_grad():
        return torch.cat([model(users[s:s + PREDICT_ROWS], items[s:s + PREDICT_ROWS])   # (N,)
                          for s in range(0, max(n, 1), PREDICT_ROWS)])

