"""Readers for real rating files (CSV/TSV, MovieLens ``u.data``).

Every problem becomes a ``ValueError`` naming the file, the line (the physical line a record
starts on, even after a quoted field that spans lines) and the column; nothing is silently
dropped, merged or repaired. Ids are read as integers, exactly, over the whole int64 range.

How: pandas' C parser reads the file first (fast); its output is accepted only if every check
passes (integer id columns, the same number of fields on every line, finite ratings that fit
float32, ...). Otherwise the file is read again record by record (``mfteach._csv``) to name the
first problem, or, for the few harmless things pandas cannot read exactly (ids written "7.0",
trailing blank lines), to read it exactly.
"""
from __future__ import annotations

import os
import warnings
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from . import _csv
from .data import Ratings

__all__ = ["read_ratings", "read_movielens_udata"]

_ROLES = ("user", "item", "rating")
_SLOW_ONLY = False  # tests set this to check the exact reader alone gives the same results


@dataclass
class _Layout:
    header: bool    # the first record is a header
    nfields: int    # every record has this many fields
    pos: tuple      # positions of user, item, rating
    labels: dict    # role -> column name for messages


def read_ratings(path, *, columns=("user", "item", "rating"), sep=None, header="infer",
                 scale=None, allow_duplicates=False, name=None, encoding="utf-8") -> Ratings:
    """Read (user, item, rating) triples from a delimited text file.

    columns: three column names (needs a header) or three 0-based positions, in the order
        user, item, rating. Other columns (e.g. a timestamp) are ignored, but every line must
        have as many fields as the first.
    sep: one-character field separator, or r"\\s+"; by default ',' for .csv, tab for
        .tsv/.tab/.data, else told from the first lines. Fields may be quoted ("...").
    header: True, False or "infer" (a first line whose used fields are not all numbers is a header).
    scale: (low, high) the ratings must lie in, e.g. (1, 5); None accepts any rating that is finite
        and fits float32 (the type ratings are stored in).
    encoding: the file's text encoding (default 'utf-8'; a UTF-8 byte-order mark is skipped).
        Bytes that do not decode are tolerated in ignored columns only.
    Ids must be non-negative integers up to 2**63 - 1 (1, 01, +1 and 1.0 are all id 1; 1.5 is
    refused); they are mapped to contiguous indices and kept exactly as ``user_ids`` /
    ``item_ids``. Blank lines at the very end are ignored, anywhere else they are an error. Files
    ending in .gz, .bz2, .xz or .zip (one member) are decompressed.
    """
    try:
        path = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(f"path must be a file path (str or os.PathLike), got "
                        f"{type(path).__name__}") from None
    named = _check_columns(columns)
    if header not in (True, False, "infer") or not isinstance(header, (bool, str)):
        raise ValueError(f"header must be True, False or 'infer', got {header!r}")
    if named and header is False:
        raise ValueError(f"{path}: columns given by name {tuple(columns)!r} but header=False")
    scale = _check_scale(scale)
    if not isinstance(allow_duplicates, (bool, np.bool_)):
        raise TypeError(f"allow_duplicates must be True or False, got {allow_duplicates!r}")
    encoding = _csv.codec_name(encoding)
    sep = _csv.check_sep(sep)
    src = _csv.Source(path, encoding)
    sep = sep or _csv.sep_for(src) or _csv.sniff(src)
    lay = _layout(src, sep, columns, named, header)

    got = None if _SLOW_ONLY else _fast(src, sep, lay, scale)
    users, items, ratings, lines = got if got is not None else _slow(src, sep, lay, scale)
    got = None
    uids, uidx = _encode(users)
    iids, iidx = _encode(items)
    del users, items  # raw ids are kept once, as user_ids/item_ids
    try:
        return Ratings(uidx, iidx, ratings, n_users=len(uids), n_items=len(iids), scale=scale,
                       user_ids=uids, item_ids=iids, name=name or os.path.basename(path),
                       allow_duplicates=allow_duplicates)
    except ValueError as e:
        if not allow_duplicates:
            _raise_duplicates(src, sep, lay, uidx, iidx, uids, iids, lines)
        raise ValueError(f"{path}: {e}") from None


def read_movielens_udata(path, name=None) -> Ratings:
    """MovieLens 100k's ``u.data``: tab-separated user, item, rating (1..5), timestamp; no header."""
    return read_ratings(path, columns=(0, 1, 2), sep="\t", header=False, scale=(1, 5),
                        name=name or "MovieLens 100k")


# -- arguments -----------------------------------------------------------------------------------
def _check_columns(columns) -> bool:
    """True for three names, False for three positions; ValueError otherwise."""
    if isinstance(columns, (str, bytes)) or not hasattr(columns, "__len__") or len(columns) != 3:
        raise ValueError(f"columns must name three columns (user, item, rating), got {columns!r}")
    if all(isinstance(c, str) for c in columns):
        named = True
    elif all(isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) and c >= 0
             for c in columns):
        named = False
    else:
        raise ValueError(f"columns must be three names or three positions (integers >= 0), got "
                         f"{columns!r}")
    if len(set(columns)) != 3:
        raise ValueError(f"columns must be three different columns, got {columns!r}")
    return named


def _check_scale(scale):
    if scale is None:
        return None
    try:
        lo, hi = (float(s) for s in scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale must be (low, high), two numbers, got {scale!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"scale must be (low, high) with finite low < high, got {scale!r}")
    return lo, hi


# -- the layout: header, field count, where the three columns are --------------------------------
def _layout(src, sep, columns, named, header) -> _Layout:
    path = src.path
    with closing(_csv.records(src, sep)) as it:
        first_blank = None
        for line, fields in it:
            if not _csv.blank(fields):
                break
            first_blank = first_blank or line
        else:
            raise ValueError(f"{path}: the file holds no data, only blank lines")
        if first_blank is not None:
            raise ValueError(f"{path}: line {first_blank} is empty")
        if named or header is True:
            has_header = True
        elif header is False:
            has_header = False
        else:
            used = [fields[c] for c in columns if c < len(fields)]
            has_header = any(not _csv.is_number(x) for x in used)
        if has_header and not any(not _csv.blank(f) for _, f in it):
            raise ValueError(f"{path}: the file has a header but no ratings")
    names = [x.strip() for x in fields] if has_header else None
    if named:
        pos = []
        for c in columns:
            where = [k for k, n in enumerate(names) if n == c]
            if not where:
                hint = ("; the header holds bytes that are not valid " + src.encoding +
                        ", pass the file's encoding=" if any(_csv.undecoded(n, src.encoding)
                                                               for n in names) else "")
                other = [s for s in (";", "\t", "|", ",") if len(names) == 1 and s in names[0]]
                if other:  # one field holding every column name: another separator
                    hint += (f"; the header is one field: is the file separated by "
                             f"{other[0]!r}? pass sep={other[0]!r}")
                shown = ", ".join(_csv.show(n, 30) for n in names[:20])
                raise ValueError(f"{path}: missing column {c!r} (line {line}, the header, has "
                                 f"[{shown}{', …' if len(names) > 20 else ''}]){hint}")
            if len(where) > 1:
                raise ValueError(f"{path}: column {c!r} appears {len(where)} times in the header "
                                 f"(line {line}, fields {', '.join(str(k + 1) for k in where)}); "
                                 f"rename the copies so it is clear which one to read")
            pos.append(where[0])
    else:
        pos = [int(c) for c in columns]
        bad = [c for c in pos if c >= len(fields)]
        if bad:
            raise ValueError(f"{path}: column position {bad[0]} asked, but line {line} has "
                             f"{len(fields)} field(s) (separator {sep!r})")
    labels = {r: (names[p] if names else f"#{p}") for r, p in zip(_ROLES, pos)}
    return _Layout(has_header, len(fields), tuple(pos), labels)


# -- the fast reader: pandas, accepted only when every check passes ------------------------------
def _fast(src, sep, lay, scale):
    """(users, items, ratings, None) as int64/int64/float64 arrays, or None to read exactly."""
    import pandas as pd

    kw = dict(sep=sep, header=None, skiprows=1 if lay.header else 0, na_filter=False,
              skip_blank_lines=False, engine="c", compression=src.compression,
              encoding=src.encoding, encoding_errors="surrogateescape" if src.encoding == "utf-8"
              else "strict")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = pd.read_csv(src.path, **kw)
    except MemoryError:
        raise
    except Exception:  # ParserError, EmptyDataError, decoding, decompressing, ...
        return None  # the exact reader reads it or names the problem
    if df.shape[1] != lay.nfields or len(df) == 0:
        return None
    cols = [df.iloc[:, p] for p in lay.pos]
    if cols[0].dtype != np.int64 or cols[1].dtype != np.int64:
        return None  # ids beyond int64 (uint64/object), floats, text, empty fields
    if cols[2].dtype not in (np.float64, np.int64):
        return None
    for k in range(df.shape[1]):
        col = df.iloc[:, k]
        if k not in lay.pos and not pd.api.types.is_numeric_dtype(col) and (col == "").any():
            return None  # an empty field, or a short line pandas padded: check exactly
    users, items = cols[0].to_numpy(), cols[1].to_numpy()
    ratings = cols[2].to_numpy(dtype=np.float64)
    del df, cols, col
    if users.min() < 0 or items.min() < 0:
        return None
    if not np.isfinite(ratings).all() or (np.abs(ratings) >= _csv.FLOAT32_LIMIT).any():
        return None
    if scale is not None and ((ratings < scale[0]) | (ratings > scale[1])).any():
        return None
    return users, items, ratings, None


# -- the exact reader ----------------------------------------------------------------------------
def _slow(src, sep, lay, scale):
    """(users, items, ratings, lines) read record by record; the first problem is raised.

    Plain fields (ASCII digits, one '.') take a short cut; anything else goes through the exact
    parsers of ``_csv``, which also word the error."""
    from array import array

    path, enc, nf = src.path, src.encoding, lay.nfields
    users, items, ratings, lines = array("q"), array("q"), array("d"), array("q")
    add_u, add_i, add_r, add_line = users.append, items.append, ratings.append, lines.append
    pu, pi, pr = lay.pos
    lo, hi = scale if scale is not None else (-np.inf, np.inf)
    limit = _csv.FLOAT32_LIMIT

    def exact(role, text, line):
        parse = _csv.parse_rating if role == "rating" else _csv.parse_id
        value, problem = parse(text, enc, scale)
        if problem:
            what = role if role == "rating" else role + " id"
            raise ValueError(f"{path}: line {line}, column {lay.labels[role]!r} ({what}): "
                             f"{problem}")
        return value

    blank_at = None
    with closing(_csv.records(src, sep)) as it:
        if lay.header:
            next(it)
        for line, fields in it:
            if len(fields) != nf:
                if _csv.blank(fields):
                    blank_at = blank_at or line
                    continue
                if blank_at is None:
                    like = "the header" if lay.header else "line 1"
                    raise ValueError(f"{path}: line {line} has {len(fields)} field(s), expected "
                                     f"{nf} like {like} (separator {sep!r})")
            if blank_at is not None:
                raise ValueError(f"{path}: line {blank_at} is empty")
            u, i, r = fields[pu], fields[pi], fields[pr]
            add_u(int(u) if len(u) < 19 and u.isdigit() and u.isascii() else exact("user", u, line))
            add_i(int(i) if len(i) < 19 and i.isdigit() and i.isascii() else exact("item", i, line))
            plain = len(r) < 40 and r.replace(".", "", 1).isdigit() and r.isascii()
            v = float(r) if plain else None
            add_r(v if v is not None and lo <= v <= hi and v < limit else exact("rating", r, line))
            add_line(line)
    if not len(ratings):
        raise ValueError(f"{path}: the file has a header but no ratings" if lay.header
                         else f"{path}: the file holds no ratings")
    return (np.frombuffer(users, np.int64), np.frombuffer(items, np.int64),
            np.frombuffer(ratings, np.float64), np.frombuffer(lines, np.int64))


def _encode(ids):
    """(sorted unique ids, index of each id among them), as ``IdMap`` would give, but without a
    sort when the ids are small (a lookup table)."""
    if len(ids) and ids.max() < 4 * len(ids) + (1 << 20):
        present = np.zeros(int(ids.max()) + 1, bool)
        present[ids] = True
        uniq = np.flatnonzero(present).astype(np.int64)
        lut = np.zeros(len(present), np.int64)
        lut[uniq] = np.arange(len(uniq))
        return uniq, lut[ids]
    uniq, inv = np.unique(ids, return_inverse=True)
    return uniq.astype(np.int64), inv.reshape(-1).astype(np.int64)


def _raise_duplicates(src, sep, lay, uidx, iidx, uids, iids, lines):
    """Raise the ValueError naming the lines of the first duplicate pair, if there is one."""
    key = uidx * max(len(iids), 1) + iidx  # < n_ratings², far from overflowing
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(np.diff(key[order]) == 0)
    if not len(dup):
        return
    a, b = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
    if lines is None:  # the fast reader has no line numbers: count records up to b
        lines = {}
        with closing(_csv.records(src, sep)) as it:
            if lay.header:
                next(it)
            for k, (line, _) in enumerate(it):
                if k in (a, b):
                    lines[k] = line
                if k >= b:
                    break
    raise ValueError(f"{src.path}: lines {lines[a]} and {lines[b]} rate the same (user "
                     f"{uids[uidx[a]]}, item {iids[iidx[a]]}) pair ({len(dup)} duplicate(s)); "
                     f"pass allow_duplicates=True to keep them")
