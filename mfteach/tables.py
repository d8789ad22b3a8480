"""Finding a model's user and item tables and its bias terms, by shape (and by name where shapes
tie): what ``watch``, ``diagnose`` and ``mfteach check-model`` read."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["candidates", "find_tables", "check_tables"]


def candidates(model) -> dict:
    """name → tensor of every table-like weight: embeddings first, then other parameters.
    ``model``: an nn.Module, or a dict of tensors (a state_dict)."""
    if isinstance(model, nn.Module):
        out, seen = {}, set()
        for name, m in model.named_modules():
            if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
                out[name or "weight"] = m.weight
                seen.add(id(m.weight))
        for name, p in model.named_parameters():
            if id(p) not in seen:
                out[name] = p
        return out
    if isinstance(model, dict):
        return {str(k): v for k, v in model.items() if isinstance(v, torch.Tensor)}
    raise TypeError(f"model must be an nn.Module or a dict of tensors, got {type(model).__name__}")


def _rows(t) -> int:
    return int(t.shape[0]) if t.dim() >= 1 else 0


def _resolve(cands, wanted, pname):
    """A table given by the caller: a name (module or parameter), a module or a tensor."""
    if isinstance(wanted, (nn.Embedding, nn.EmbeddingBag)):
        wanted = wanted.weight
    if isinstance(wanted, torch.Tensor):
        for name, t in cands.items():
            if t is wanted:
                return name, t
        return pname, wanted
    if not isinstance(wanted, str):
        raise TypeError(f"{pname} must be a table's name, module or tensor, got "
                        f"{type(wanted).__name__}")
    for key in (wanted, f"{wanted}.weight", wanted.removesuffix(".weight")):
        if key in cands:
            return key, cands[key]
    raise ValueError(f"{pname}={wanted!r} is not a table of the model; its tables: "
                     f"{_listing(cands)}")


def _listing(cands) -> str:
    return ", ".join(f"{n} {tuple(t.shape)}" for n, t in cands.items() if t.dim() == 2) or "none"


def _named(name, *words) -> bool:
    return any(w in name.lower() for w in words)


# layers whose one-number bias is no global bias (an MLP's last Linear(h, 1), say)
_LAYERS = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd, nn.modules.batchnorm._BatchNorm,
           nn.LayerNorm)


def _in_layer(model, name) -> bool:
    owner = name.rpartition(".")[0]
    if not isinstance(model, nn.Module) or not owner:
        return False
    try:
        return isinstance(model.get_submodule(owner), _LAYERS)
    except AttributeError:
        return False


def find_tables(model, n_users, n_items, user_table=None, item_table=None) -> dict:
    """{"user": (name, tensor), "item": ..., "user_bias": ... or None, "item_bias": ...,
    "global_bias": ...}. n_users, n_items: rows the ratings need (max id + 1)."""
    cands = candidates(model)
    tables = {n: t for n, t in cands.items() if t.dim() == 2 and t.shape[1] > 1}
    if user_table is not None and item_table is not None:
        user, item = _resolve(cands, user_table, "user_table"), _resolve(cands, item_table, "item_table")
    else:
        fixed_u = _resolve(cands, user_table, "user_table") if user_table is not None else None
        fixed_i = _resolve(cands, item_table, "item_table") if item_table is not None else None
        pairs = [((nu, tu), (ni, ti)) for nu, tu in tables.items() for ni, ti in tables.items()
                 if nu != ni and _rows(tu) >= n_users and _rows(ti) >= n_items
                 and tu.shape[1] == ti.shape[1]
                 and (fixed_u is None or nu == fixed_u[0]) and (fixed_i is None or ni == fixed_i[0])]
        if len(pairs) > 1:  # e.g. square data: let the names decide, if they do
            named = [p for p in pairs if _named(p[0][0], "user") and _named(p[1][0], "item", "movie")]
            pairs = named if len(named) == 1 else pairs
        if len(pairs) != 1:
            why = "no pair of tables fits" if not pairs else "several pairs of tables fit"
            one = ("; tables one column wide are read as bias terms, so a dim-1 model needs them "
                   "named" if not pairs and any(t.dim() == 2 and t.shape[1] == 1
                                                for t in cands.values()) else "")
            raise ValueError(f"{why} the ratings ({n_users} users, {n_items} items, equal dim); "
                             f"candidates: {_listing(cands)}. Pass user_table= and item_table= "
                             f"(attribute or parameter names){one}")
        user, item = pairs[0]
        if user_table is None and item_table is None and _named(user[0], "item", "movie") \
                and _named(item[0], "user"):  # e.g. one user id past the user table's rows
            raise ValueError(f"only swapped do the tables fit the ratings ({n_users} users, "
                             f"{n_items} items): {item[0]!r} {tuple(item[1].shape)} as the user "
                             f"table, {user[0]!r} {tuple(user[1].shape)} as the item table. Is "
                             f"an id past its table? Or pass user_table= and item_table=")
    out = {"user": user, "item": item, "user_bias": None, "item_bias": None, "global_bias": None}
    chosen = (user[0], item[0])  # a dim-1 model's tables are one column wide too: not biases
    vectors = {n: t for n, t in cands.items() if n not in chosen and (
               (t.dim() == 2 and t.shape[1] == 1) or (t.dim() == 1 and t.shape[0] > 1))}
    for role, (tname, t) in (("user_bias", user), ("item_bias", item)):
        fits = [(n, v) for n, v in vectors.items() if _rows(v) == _rows(t)]
        if len(fits) > 1:  # same row counts: the names must say which
            word = ("user",) if role == "user_bias" else ("item", "movie")
            fits = [f for f in fits if _named(f[0], *word)]
        out[role] = fits[0] if len(fits) == 1 else None
    scalars = [(n, t) for n, t in cands.items() if t.numel() == 1 and not _in_layer(model, n)]
    out["global_bias"] = scalars[0] if len(scalars) == 1 else None
    return out


def check_tables(names, P, Q):
    """What ``diagnose`` reads as ⟨p_u, q_i⟩ (+ biases): two 2-D tables of one dim, with data."""
    for role, t in (("user", P), ("item", Q)):
        if t.dim() != 2:
            raise ValueError(f"{role}_table {names[role]!r} must be 2-D (rows, dim), got shape "
                             f"{tuple(t.shape)}")
        if t.is_meta:
            raise ValueError(f"{role}_table {names[role]!r} is on the 'meta' device (no values): "
                             f"watch a model whose weights hold numbers")
    if P.shape[1] != Q.shape[1]:
        raise ValueError(f"user_table {names['user']!r} (dim {P.shape[1]}) and item_table "
                         f"{names['item']!r} (dim {Q.shape[1]}) must have the same dim: "
                         f"diagnose reads predictions as ⟨p_u, q_i⟩ + biases")
