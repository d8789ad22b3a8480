"""The exact, slow half of :mod:`mfteach.files`: opening a file (compression, encodings), telling
its separator, reading records with the physical line each starts on, and parsing id and rating
fields exactly (ids as Python integers, never through a float).

``files.read_ratings`` first lets pandas' C parser read the file (fast) and checks what came out;
whenever anything is off, the file is read again here, record by record, and the first problem
is reported with its file, line and column. Error text built here is always bounded in size.
"""
from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import os
import re
import zipfile
import zlib

import numpy as np

INT64_MAX = 2**63 - 1
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_LIMIT = 2.0**128 - 2.0**103  # the smallest float64 that float32 rounds to infinity
COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
WHITESPACE = r"\s+"
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError, zlib.error)
_SNIFF = (",", "\t", ";", "|", " ")
# What pandas' C parser also reads as an integer / a number (ASCII digits only: int() would take
# any Unicode digit). Ids may carry a zero fraction ("7.0", written by float columns).
# (Written so that no input makes them backtrack: a 10 MB field is matched in linear time.)
_INT = re.compile(r"\s*([+-]?)([0-9]+)(?:\.0*)?\s*\Z", re.ASCII)
_NUM = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*\Z", re.ASCII)
_FRACTION = re.compile(r"\s*[+-]?[0-9]*\.[0-9]+\s*\Z", re.ASCII)
_ESCAPED = re.compile("[\udc80-\udcff]")  # bytes that did not decode (errors="surrogateescape")


def show(text, limit=40) -> str:
    """repr() of a field, cut to ``limit`` characters so that a huge field gives a short message."""
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def codec_name(encoding) -> str:
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a codec name such as 'utf-8' or 'latin-1', "
                        f"got {encoding!r}")
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"encoding {show(encoding)} is not a known text encoding "
                         f"(e.g. 'utf-8', 'latin-1', 'utf-16')") from None
    return "utf-8" if name == "utf-8-sig" else name


class Source:
    """A rating file on disk: checked to exist and be a readable, non-empty (single) file."""

    def __init__(self, path: str, encoding: str):
        self.path, self.encoding = path, encoding
        base, ext = os.path.splitext(path)
        self.compression = COMPRESSION.get(ext.lower())
        self.inner_ext = os.path.splitext(base)[1].lower() if self.compression else ext.lower()
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file")
        if os.path.isdir(path):
            raise ValueError(f"{path}: is a directory, not a rating file")
        if not os.path.isfile(path):
            raise ValueError(f"{path}: is not a regular file")
        if os.path.getsize(path) == 0:
            raise ValueError(f"{path}: the file is empty")
        if self.compression == "zip":
            try:
                with zipfile.ZipFile(path) as z:
                    members = [m for m in z.namelist() if not m.endswith("/")]
            except (zipfile.BadZipFile, OSError) as e:
                raise ValueError(f"{path}: not a readable zip archive ({e})") from None
            if len(members) != 1:
                names = ", ".join(show(m) for m in members[:5])
                names += ", …" if len(members) > 5 else ""
                raise ValueError(f"{path}: a zip archive must hold exactly one file, this one "
                                 f"holds {len(members)}{': ' + names if members else ''}; "
                                 f"extract the one you want and read that")
            self.member = members[0]
        self._check_start()

    def open_binary(self):
        try:
            if self.compression == "gzip":
                return gzip.open(self.path, "rb")
            if self.compression == "bz2":
                return bz2.open(self.path, "rb")
            if self.compression == "xz":
                return lzma.open(self.path, "rb")
            if self.compression == "zip":
                z = zipfile.ZipFile(self.path)
                try:
                    return z.open(self.member)  # stays readable once the archive is closed
                finally:
                    z.close()
            return open(self.path, "rb")
        except OSError as e:
            raise type(e)(f"{self.path}: cannot open the file ({e.strerror or e})") from None

    def open_text(self):
        errors = "surrogateescape" if self.encoding == "utf-8" else "strict"
        enc = "utf-8-sig" if self.encoding == "utf-8" else self.encoding
        return io.TextIOWrapper(self.open_binary(), encoding=enc, errors=errors, newline="")

    def _check_start(self):
        f = self.open_binary()
        try:
            with f:
                head = f.read(1 << 16)
        except _READ_ERRORS as e:
            raise self.read_error(e) from None
        if not head:
            raise ValueError(f"{self.path}: the file is empty")
        wide = self.encoding.startswith(("utf-16", "utf-32"))
        if not wide and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ValueError(f"{self.path}: starts with a UTF-16/UTF-32 byte-order mark, but is "
                             f"read as {self.encoding!r}; pass encoding='utf-16' (or 'utf-32')")
        if not wide and b"\x00" in head:
            line = head[:head.index(b"\x00")].count(b"\n") + 1
            raise ValueError(f"{self.path}: line {line} holds a NUL byte: this is not a "
                             f"{self.encoding} text file (UTF-16 text? pass encoding='utf-16')")

    def read_error(self, e) -> Exception:
        """A failure while reading: corrupt compressed data, or the disk itself."""
        if self.compression is None:
            return type(e)(f"{self.path}: cannot read the file ({e})") if isinstance(e, OSError) \
                else ValueError(f"{self.path}: cannot read the file ({e})")
        return ValueError(f"{self.path}: cannot be read as {self.compression} data, it is corrupt "
                          f"or cut short ({e})")

    def head_lines(self, n=50) -> list:
        """The first ``n`` lines of text (for telling the separator)."""
        out = []
        try:
            with self.open_text() as f:
                for line in f:
                    out.append(line)
                    if len(out) >= n:
                        break
        except UnicodeDecodeError as e:
            raise self.decode_error(e) from None
        except _READ_ERRORS as e:
            raise self.read_error(e) from None
        return out

    def decode_error(self, e: UnicodeDecodeError) -> ValueError:
        """The ValueError for a byte that does not decode, with its exact line (found by decoding
        the whole file once more: a text stream's error only knows its read-ahead block)."""
        where, what = "", e.reason
        try:
            with self.open_binary() as f:
                data = f.read(1 << 30)
            data.decode(self.encoding)
        except UnicodeDecodeError as full:
            text = data[:full.start].decode(self.encoding, errors="replace")
            line = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
            where, what = f" line {line}:", f"{full.reason}, byte {full.start:,} of the file"
        except (OSError, EOFError):
            pass
        return ValueError(f"{self.path}:{where} cannot be decoded as {self.encoding!r} ({what}); "
                          f"pass the file's encoding=")


EXT_SEP = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".data": "\t"}  # (check-model uses it too)


def sep_for(src: Source):
    """The separator its extension implies: ',' for .csv, tab for .tsv/.tab/.data; else None."""
    return EXT_SEP.get(src.inner_ext)


def sniff(src: Source) -> str:
    """The first of , tab ; | space that splits every one of the first lines the same number of
    times (at least once)."""
    lines = [ln.rstrip("\r\n") for ln in src.head_lines() if ln.strip()] or [""]
    for sep in _SNIFF:
        counts = {ln.count(sep) for ln in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return sep
    raise ValueError(f"{src.path}: cannot tell the field separator from the first lines "
                     f"(first line: {show(lines[0])}); pass sep=',' or sep='\\t'")


def check_sep(sep):
    if sep is None or sep == WHITESPACE:
        return sep
    if not isinstance(sep, str) or len(sep) != 1 or sep in '"\r\n' or sep.isalnum() or sep in ".+-":
        raise ValueError(f"sep must be one character that cannot be part of a number or a quote "
                         f"(e.g. ',', '\\t', ';', '|', ' '), or {WHITESPACE!r}; got {sep!r}")
    return sep


def records(src: Source, sep: str):
    """Yield (line, fields) per record; ``line`` is the physical line it starts on (a quoted
    field may span lines). Blank lines are records with no fields."""
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    f = src.open_text()
    try:
        if sep == WHITESPACE:
            for n, text in enumerate(f, 1):
                yield n, text.split()
            return
        rd = csv.reader(f, delimiter=sep, quotechar='"', doublequote=True, strict=True)
        start = 1
        while True:
            try:
                fields = next(rd)
            except StopIteration:
                return
            except csv.Error as e:
                if "end of data" in str(e):
                    raise ValueError(f"{src.path}: line {start}: a quoted field (\"…) starting "
                                     f"on this line is never closed") from None
                raise ValueError(f"{src.path}: line {rd.line_num}: bad quoting ({e})") from None
            yield start, fields
            start = rd.line_num + 1
    except UnicodeDecodeError as e:
        raise src.decode_error(e) from None
    except _READ_ERRORS as e:
        raise src.read_error(e) from None
    finally:
        f.close()
        csv.field_size_limit(old)


def blank(fields) -> bool:
    """A blank line: no field, or one holding only spaces (a line of separators is not blank)."""
    return len(fields) <= 1 and all(not x.strip() for x in fields)


def is_number(text) -> bool:
    return bool(_NUM.match(text))


def undecoded(text, encoding) -> str | None:
    """The problem with a field holding bytes that did not decode, else None."""
    if _ESCAPED.search(text):
        shown = show(text.encode("utf-8", "surrogateescape").decode("latin-1"))
        return (f"holds bytes that are not valid {encoding} ({shown} read as Latin-1); pass the "
                f"file's encoding=, e.g. encoding='latin-1'")
    return None


def parse_id(text: str, encoding: str, scale=None):
    """(int, None) for a valid id, else (None, what is wrong)."""
    m = _INT.match(text)
    if m:
        sign, digits = m.groups()
        digits = digits.lstrip("0") or "0"
        if len(digits) > 19 or int(digits) > INT64_MAX:
            if sign == "-":
                return None, f"{show(text.strip())} is negative; ids must be non-negative integers"
            return None, (f"{show(text.strip())} is too large: ids must fit in a signed 64-bit "
                          f"integer (at most {INT64_MAX})")
        value = -int(digits) if sign == "-" else int(digits)
        if value < 0:
            return None, f"{value} is negative; ids must be non-negative integers"
        return value, None
    if not text.strip():
        return None, "is missing"
    bad = undecoded(text, encoding)
    if bad:
        return None, bad
    if _NUM.match(text):
        what = "is not an integer" if _FRACTION.match(text) else "is not written as an integer"
        return None, f"{text.strip()[:40]} {what}; ids must be non-negative integers"
    return None, f"{show(text)} is not an integer id"


def parse_rating(text: str, encoding: str, scale):
    """(float, None) for a valid rating, else (None, what is wrong)."""
    if _NUM.match(text):
        value = float(text)
        if value != value or abs(value) == float("inf"):
            return None, f"{show(text.strip())} is not a finite number (too large for float64)"
        if abs(value) >= FLOAT32_LIMIT:
            return None, (f"{value:g} is too large for float32, the type ratings are stored in "
                          f"(at most ±{FLOAT32_MAX:.4g})")
        if scale is not None and not scale[0] <= value <= scale[1]:
            return None, f"{value:g} is outside the declared scale {scale[0]:g}..{scale[1]:g}"
        return value, None
    if not text.strip():
        return None, "is missing"
    return None, undecoded(text, encoding) or f"{show(text)} is not a finite number"


# -- shared with data.Ratings ---------------------------------------------------------------------
def first_duplicate(users, items, n_users, n_items):
    """Index of the second rating of the first repeated (user, item) pair, or None.

    One key per pair (``user * n_items + item``) when that fits int64, else a lexsort. No
    duplicate is the common case: keys already in increasing order (a file sorted by user, then
    item, like MovieLens 25M's) prove it without a sort; else a plain sort does."""
    if n_users * max(n_items, 1) <= np.iinfo(np.int64).max:
        key = users * max(n_items, 1) + items
        if (key[1:] > key[:-1]).all():
            return None
        s = np.sort(key)
        if not (s[1:] == s[:-1]).any():
            return None
        order = np.argsort(key, kind="stable")
        same = np.flatnonzero(key[order][1:] == key[order][:-1])
    else:
        order = np.lexsort((items, users))
        u, i = users[order], items[order]
        same = np.flatnonzero((u[1:] == u[:-1]) & (i[1:] == i[:-1]))
        if not len(same):
            return None
    # the pair whose second occurrence comes first in the data
    return int(order[same + 1].min())
