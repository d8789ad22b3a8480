"""Readers for real rating files (CSV/TSV, MovieLens ``u.data``).

Every problem becomes a ``ValueError`` naming the file, the line and the column; nothing is
silently dropped or repaired.
"""
from __future__ import annotations

import os

import numpy as np

from .data import Ratings
from .preprocessing import IdMap

__all__ = ["read_ratings", "read_movielens_udata"]

_ROLES = ("user", "item", "rating")


def _sep_for(path):
    ext = os.path.splitext(str(path))[1].lower()
    return "," if ext == ".csv" else "\t" if ext in (".tsv", ".data", ".tab") else None


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_ratings(path, *, columns=("user", "item", "rating"), sep=None, header="infer",
                 scale=None, allow_duplicates=False, name=None) -> Ratings:
    """Read (user, item, rating) triples from a delimited text file.

    columns: three column names (needs a header) or three 0-based positions, in the order
        user, item, rating. Other columns (e.g. a timestamp) are ignored.
    sep: field separator; by default ',' for .csv, tab for .tsv/.data, else sniffed.
    header: True, False or "infer" (a first line whose rating field is not a number is a header).
    scale: (low, high) the ratings must lie in, e.g. (1, 5); None accepts any finite rating.
    Ids must be non-negative integers; they are mapped to contiguous indices and kept as
    ``user_ids``/``item_ids``.
    """
    import pandas as pd

    path = os.fspath(path)
    if len(columns) != 3:
        raise ValueError(f"columns must name three columns (user, item, rating), got {columns!r}")
    if header not in (True, False, "infer"):
        raise ValueError(f"header must be True, False or 'infer', got {header!r}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path}: the file is empty")
    sep = sep or _sep_for(path)
    try:
        raw = pd.read_csv(path, sep=sep, header=None, dtype=str, keep_default_na=False,
                          skip_blank_lines=False, engine="python" if sep is None else "c")
    except pd.errors.ParserError as e:
        raise ValueError(f"{path}: could not parse the file as delimited text: {e}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a text file ({e.reason})") from None
    # Line numbers: row k of `raw` is line k + 1 of the file.
    named = all(isinstance(c, str) for c in columns)
    if not named and not all(isinstance(c, (int, np.integer)) for c in columns):
        raise ValueError(f"columns must be three names or three positions, got {columns!r}")
    if named and header is False:
        raise ValueError(f"{path}: columns given by name {columns!r} but header=False")
    if header == "infer":
        first = raw.iloc[0].tolist()
        if named:
            has_header = True
        else:
            pos = [c for c in columns if c < len(first)]
            has_header = any(not _is_number(first[c]) for c in pos)
    else:
        has_header = bool(header)
    names = [str(x).strip() for x in raw.iloc[0]] if has_header else None
    body = raw.iloc[1:] if has_header else raw
    first_line = 2 if has_header else 1
    if len(body) == 0:
        raise ValueError(f"{path}: the file has a header but no ratings")

    if named:
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing} (the header has {names})")
        pos = [names.index(c) for c in columns]
    else:
        pos = [int(c) for c in columns]
        bad = [c for c in pos if not 0 <= c < raw.shape[1]]
        if bad:
            raise ValueError(f"{path}: column position {bad[0]} asked, but lines have "
                             f"{raw.shape[1]} field(s) (separator {sep!r})")
    pos_of = dict(zip(_ROLES, pos))
    label = {r: (names[p] if names else f"#{p}") for r, p in pos_of.items()}

    # Blank lines become all-empty rows here; name them instead of skipping them.
    blank = (body == "").all(axis=1).to_numpy()
    if blank.any():
        k = int(np.flatnonzero(blank)[0])
        raise ValueError(f"{path}: line {first_line + k} is empty")

    def numeric(role):
        col = body.iloc[:, pos_of[role]].str.strip()
        vals = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(vals)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            text = col.iloc[k]
            what = "is missing" if text == "" else f"{text!r} is not a finite number"
            raise ValueError(f"{path}: line {first_line + k}, column {label[role]!r} ({role}): "
                             f"{what} ({bad.sum()} such value(s) in this column)")
        return vals

    ids = {}
    for role in ("user", "item"):
        v = numeric(role)
        bad = (v < 0) | (v != np.round(v))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            kind = "negative" if v[k] < 0 else "not an integer"
            raise ValueError(f"{path}: line {first_line + k}, column {label[role]!r} ({role} id): "
                             f"{v[k]:g} is {kind}; ids must be non-negative integers")
        ids[role] = v.astype(np.int64)
    r = numeric("rating")
    if scale is not None:
        lo, hi = float(scale[0]), float(scale[1])
        bad = (r < lo) | (r > hi)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{path}: line {first_line + k}, column {label['rating']!r} (rating): "
                             f"{r[k]:g} is outside the declared scale {lo:g}..{hi:g} "
                             f"({bad.sum()} such rating(s))")
    if not allow_duplicates:
        key = ids["user"] * (ids["item"].max() + 1) + ids["item"]
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(np.diff(key[order]) == 0)
        if len(dup):
            a, b = sorted((order[dup[0]], order[dup[0] + 1]))
            raise ValueError(f"{path}: lines {first_line + a} and {first_line + b} rate the same "
                             f"(user {ids['user'][a]}, item {ids['item'][a]}) pair "
                             f"({len(dup)} duplicate(s)); pass allow_duplicates=True to keep them")
    umap, imap = IdMap(ids["user"]), IdMap(ids["item"])
    return Ratings(umap.encode(ids["user"]), imap.encode(ids["item"]), r, n_users=len(umap),
                   n_items=len(imap), scale=scale, user_ids=umap.ids, item_ids=imap.ids,
                   name=name or os.path.basename(path), allow_duplicates=allow_duplicates)


def read_movielens_udata(path, name=None) -> Ratings:
    """MovieLens 100k's ``u.data``: tab-separated user, item, rating (1..5), timestamp; no header."""
    return read_ratings(path, columns=(0, 1, 2), sep="\t", header=False, scale=(1, 5),
                        name=name or "MovieLens 100k")
