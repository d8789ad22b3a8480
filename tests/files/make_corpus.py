"""The rating-file corpus of tests/test_files.py: malformed files that must be refused and
well-formed ones that must be read exactly.

    python tests/files/make_corpus.py      # (re)writes tests/files/bad/* and tests/files/good/*

Each case is (file name, bytes, read_ratings keyword arguments, expectation). The test checks that
the committed files still equal these bytes, then reads the files on disk. A few cases are not
committed (``DISK=False``): zip archives (.gitignore refuses *.zip, to keep MovieLens out) and a
10 MB field; the test writes those to a temporary folder.

Bad: (error type, line or None, a fragment the message must hold). "line" is the physical line
the problem is on, counted from 1; for duplicates, a pair (first line, second line).
Good: the triples (raw user id, raw item id, rating) in file order.
"""
from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
H = "user,item,rating\n"


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _b(text, enc="utf-8"):
    return text.encode(enc) if isinstance(text, str) else text


# name, content, kwargs, (type, line, fragment)
BAD = [
    # -- silent wrong data (the issue's cases) --
    ("id_beyond_int64.csv", H + "99999999999999999999999,2,4\n", {},
     (ValueError, 2, "column 'user' (user id): '99999999999999999999999' is too large")),
    ("id_2pow63.csv", H + "1,1,4\n9223372036854775808,2,4\n", {},
     (ValueError, 3, "column 'user' (user id): '9223372036854775808' is too large")),
    ("item_2pow63.csv", H + "1,9223372036854775808,4\n", {},
     (ValueError, 2, "column 'item' (item id): '9223372036854775808' is too large")),
    ("id_2pow64.csv", H + "18446744073709551616,1,4\n", {}, (ValueError, 2, "too large")),
    ("id_2pow63_zero_fraction.csv", H + "9223372036854775808.0,1,4\n", {},
     (ValueError, 2, "too large")),
    ("id_many_digits.csv", H + "1,2,3\n" + "9" * 400 + ",1,4\n", {},
     (ValueError, 3, "(400 characters) is too large")),
    ("id_negative_huge.csv", H + "-99999999999999999999,1,4\n", {}, (ValueError, 2, "is negative")),
    ("snowflake_duplicate.csv", H + "9007199254740993,5,4\n9007199254740992,5,3\n"
     "9007199254740993,5,1\n", {},
     (ValueError, (2, 4), "(user 9007199254740993, item 5) pair")),
    ("rating_1e39.csv", H + "1,2,4\n1,3,1e39\n", {},
     (ValueError, 3, "column 'rating' (rating): 1e+39 is too large for float32")),
    ("rating_minus_1e39.csv", H + "1,3,-1e39\n", {}, (ValueError, 2, "too large for float32")),
    ("rating_3.5e38.csv", H + "1,3,3.5e38\n", {}, (ValueError, 2, "too large for float32")),
    ("rating_1e400.csv", H + "1,3,1e400\n", {}, (ValueError, 2, "'1e400' is not a finite number")),
    # -- values --
    ("rating_nan.csv", H + "1,2,3\n1,3,nan\n", {}, (ValueError, 3, "'nan' is not a finite number")),
    ("rating_inf.csv", H + "1,2,inf\n", {}, (ValueError, 2, "'inf' is not a finite number")),
    ("rating_text.csv", H + "1,2,3\n1,3,good\n", {}, (ValueError, 3, "'good' is not a finite number")),
    ("rating_empty.csv", H + "1,2,3\n2,3,\n", {}, (ValueError, 3, "(rating): is missing")),
    ("rating_spaces.csv", H + "1,2,   \n", {}, (ValueError, 2, "is missing")),
    ("rating_empty_quotes.csv", H + '1,2,""\n', {}, (ValueError, 2, "is missing")),
    ("rating_bool.csv", H + "1,2,True\n", {}, (ValueError, 2, "'True' is not a finite number")),
    ("rating_decimal_comma.csv", "user;item;rating\n1;2;4,5\n", {"sep": ";"},
     (ValueError, 2, "'4,5' is not a finite number")),
    ("rating_above_scale.csv", H + "1,2,3\n1,3,7\n", {"scale": (1, 5)},
     (ValueError, 3, "7 is outside the declared scale 1..5")),
    ("rating_below_scale.csv", H + "1,2,0.5\n", {"scale": (1, 5)},
     (ValueError, 2, "0.5 is outside the declared scale 1..5")),
    ("user_negative.csv", H + "1,2,3\n-4,3,2\n", {}, (ValueError, 3, "column 'user' (user id): -4 is negative")),
    ("item_negative.csv", H + "1,-2,3\n", {}, (ValueError, 2, "column 'item' (item id): -2 is negative")),
    ("item_fraction.csv", H + "1,2.5,3\n", {}, (ValueError, 2, "2.5 is not an integer")),
    ("id_exponent.csv", H + "1e3,2,3\n", {}, (ValueError, 2, "1e3 is not written as an integer")),
    ("id_hex.csv", H + "0x10,2,3\n", {}, (ValueError, 2, "'0x10' is not an integer id")),
    ("id_underscore.csv", H + "1_000,2,3\n", {}, (ValueError, 2, "'1_000' is not an integer id")),
    ("id_inner_space.csv", H + "1 000,2,3\n", {}, (ValueError, 2, "'1 000' is not an integer id")),
    ("id_arabic_digits.csv", H + "\u0661\u0662,2,3\n", {}, (ValueError, 2, "is not an integer id")),
    ("id_missing.csv", H + "1,2,3\n,3,4\n", {}, (ValueError, 3, "(user id): is missing")),
    ("separators_only_line.csv", H + "1,2,3\n,,\n4,5,6\n", {}, (ValueError, 3, "is missing")),
    ("second_header.csv", H + "1,2,3\n" + H + "4,5,6\n", {}, (ValueError, 3, "'user' is not an integer id")),
    ("duplicate_pair.csv", H + "1,2,3\n5,5,1\n1,2,4\n", {},
     (ValueError, (2, 4), "rate the same (user 1, item 2) pair")),
    ("duplicate_crlf.csv", (H + "1,2,3\n7,7,1\n1,2,4\n").replace("\n", "\r\n"), {},
     (ValueError, (2, 4), "(user 1, item 2)")),
    ("duplicate_after_quoted_newline.csv",
     'user,item,rating,note\n1,2,3,"two\nlines"\n5,5,1,x\n1,2,4,y\n', {},
     (ValueError, (2, 5), "(user 1, item 2)")),
    ("duplicate_udata.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t242\t4\t1\n",
     {"columns": (0, 1, 2), "header": False}, (ValueError, (1, 3), "(user 196, item 242)")),
    # -- structure --
    ("empty.csv", "", {}, (ValueError, None, "the file is empty")),
    ("only_newline.csv", "\n", {}, (ValueError, None, "holds no data, only blank lines")),
    ("only_blank_lines.csv", "\r\n  \r\n\r\n", {}, (ValueError, None, "only blank lines")),
    ("header_only.csv", H, {}, (ValueError, None, "the file has a header but no ratings")),
    ("header_then_blank_lines.csv", H + "\n\n", {}, (ValueError, None, "header but no ratings")),
    ("missing_column.csv", "user,item,score\n1,2,3\n", {}, (ValueError, 1, "missing column 'rating'")),
    ("duplicate_column_name.csv", "user,item,rating,rating\n1,2,3,4\n", {},
     (ValueError, 1, "column 'rating' appears 2 times in the header")),
    ("tsv_holding_commas.tsv", H + "1,2,3\n", {}, (ValueError, 1, "missing column 'user'")),
    ("blank_line_inside.csv", H + "1,2,3\n\n1,3,4\n", {}, (ValueError, 3, "line 3 is empty")),
    ("blank_lines_inside_crlf.csv", "user,item,rating\r\n1,2,3\r\n\r\n\r\n4,5,6\r\n", {},
     (ValueError, 3, "line 3 is empty")),
    ("whitespace_line_inside.csv", H + "1,2,3\n   \n1,3,4\n", {}, (ValueError, 3, "line 3 is empty")),
    ("blank_first_line.csv", "\n" + H + "1,2,3\n", {}, (ValueError, 1, "line 1 is empty")),
    ("short_line.csv", "user,item,rating,ts\n1,2,3,9\n4,5,6\n", {},
     (ValueError, 3, "has 3 field(s), expected 4 like the header")),
    ("long_line.csv", H + "1,2,3\n4,5,6,7\n", {}, (ValueError, 3, "has 4 field(s), expected 3")),
    ("trailing_commas.csv", H + "1,2,3,\n", {}, (ValueError, 2, "has 4 field(s), expected 3")),
    ("short_line_no_header.tsv", "1\t2\t3\t9\n4\t5\t6\n", {"columns": (0, 1, 2)},
     (ValueError, 2, "expected 4 like line 1")),
    ("short_line_text_column.csv", "user,item,rating,title\n1,2,3,A\n4,5,6\n", {},
     (ValueError, 3, "has 3 field(s), expected 4")),
    ("position_out_of_range.tsv", "1\t2\n", {"columns": (0, 1, 2)},
     (ValueError, 1, "column position 2 asked, but line 1 has 2 field(s)")),
    ("unclosed_quote.csv", 'user,item,rating,note\n1,2,3,ok\n4,5,6,"never closed\n7,8,9,x\n', {},
     (ValueError, 3, "a quoted field")),
    ("text_after_closing_quote.csv", H + '1,2,"4"x\n', {}, (ValueError, 2, "bad quoting")),
    ("error_after_quoted_newlines.csv",
     'user,item,rating,note\n1,2,3,"a\nb\nc"\n4,5,6,x\n4,6,oops,y\n', {},
     (ValueError, 6, "'oops' is not a finite number")),
    ("error_after_quoted_header.csv", '"us\ner",item,rating\n1,2,3\n1,x,3\n', {"columns": (0, 1, 2)},
     (ValueError, 4, "'x' is not an integer id")),
    ("cr_line_endings.csv", "user,item,rating\r1,2,3\r1,x,4\r", {},
     (ValueError, 3, "'x' is not an integer id")),
    ("ml1m_double_colons.dat", "1::1193::5::978300760\n1::661::3::978302109\n", {},
     (ValueError, None, "cannot tell the field separator")),
    ("gzip_with_bad_line.csv.gz", gzip.compress(_b(H + "1,2,3\n1,3,bad\n"), mtime=0), {},
     (ValueError, 3, "'bad' is not a finite number")),
    ("plain_text_named.csv.gz", H + "1,2,3\n", {}, (ValueError, None, "cannot be read as gzip data")),
    ("cut_short.csv.gz", gzip.compress(_b(H + "1,2,3\n" * 50), mtime=0)[:-12], {},
     (ValueError, None, "cannot be read as gzip data, it is corrupt or cut short")),
    ("corrupt.csv.bz2", b"BZh91AY&SY" + b"\x00" * 40, {}, (ValueError, None, "cannot be read as bz2")),
    ("long_bad_field.csv", H + "1,2," + "x" * 1000 + "\n", {},
     (ValueError, 2, "(1,000 characters) is not a finite number")),
    # -- encodings and binary files --
    ("latin1_in_used_column.csv", b"user,item,rating\n1\xe9,2,3\n", {},
     (ValueError, 2, "not valid utf-8 ('1\u00e9' read as Latin-1); pass the file's encoding=")),
    ("latin1_header_name.csv", "us\u00e9r,item,rating\n1,2,3\n".encode("latin-1"),
     {"columns": ("us\u00e9r", "item", "rating")},
     (ValueError, 1, "missing column 'us\u00e9r'")),
    ("utf16_read_as_utf8.csv", (H + "1,2,3\n").encode("utf-16"), {},
     (ValueError, None, "UTF-16/UTF-32 byte-order mark, but is read as 'utf-8'; pass encoding='utf-16'")),
    ("utf16le_without_bom.csv", (H + "1,2,3\n").encode("utf-16-le"), {},
     (ValueError, 1, "holds a NUL byte")),
    ("nul_byte.csv", b"user,item,rating\n1,2,3\n4,5,\x006\n", {}, (ValueError, 3, "holds a NUL byte")),
    ("binary.csv", b"\xff\xfe\x00\x81garbage\x00\n", {}, (ValueError, None, "byte-order mark")),
    ("bad_utf16.csv", codecs.BOM_UTF16_LE + (H + "1,2,3\n").encode("utf-16-le") + b"\x00\xd8",
     {"encoding": "utf-16"}, (ValueError, 3, "cannot be decoded as 'utf-16'")),
    ("cp1252_undefined_byte.csv", b"user,item,rating,title\r\n1,2,3,x\r\n1,3,4,\x81\r\n",
     {"encoding": "cp1252"}, (ValueError, 3, "cannot be decoded as 'cp1252'")),
]

BAD_NOT_ON_DISK = [
    ("two_members.zip", _zip([("a.csv", H + "1,2,3\n"), ("b.csv", H + "1,2,3\n")]), {},
     (ValueError, None, "a zip archive must hold exactly one file, this one holds 2")),
    ("no_members.zip", _zip([]), {}, (ValueError, None, "holds 0")),
    ("semicolons.csv", "user;item;rating\n1;2;3\n", {},
     (ValueError, 1, "the header is one field: is the file separated by ';'? pass sep=';'")),
    ("huge_field.csv", H + "1,2," + "7" * 10_000_000 + "x\n", {},
     (ValueError, 2, "(10,000,001 characters) is not a finite number")),
]

# name, content, kwargs, [(raw user, raw item, rating), ...]
T = [(1, 2, 3.0), (1, 7, 4.5), (42, 2, 1.0)]
ROWS = "1,2,3\n1,7,4.5\n42,2,1\n"
GOOD = [
    ("basic.csv", H + ROWS, {}, T),
    ("bom.csv", b"\xef\xbb\xbf" + _b(H + ROWS), {}, T),
    ("bom_no_header.csv", b"\xef\xbb\xbf" + _b(ROWS), {"columns": (0, 1, 2)}, T),
    ("crlf.csv", (H + ROWS).replace("\n", "\r\n"), {}, T),
    ("cr_only.csv", (H + ROWS).replace("\n", "\r"), {}, T),
    ("no_final_newline.csv", H + ROWS.rstrip("\n"), {}, T),
    ("trailing_blank_lines.csv", H + ROWS + "\n\n  \n", {}, T),
    ("quoted_fields.csv", '"user","item","rating"\n"1","2","3"\n"1","7","4.5"\n"42","2","1"\n', {}, T),
    ("spaces_around_values.csv", "user , item , rating\n 1 , 2 , 3 \n1,\t7,4.5\n42 ,2, 1\n", {}, T),
    ("signs_and_zeros.csv", H + "+1,002,3\n0001,7,+4.5\n42,+2,1.000\n", {}, T),
    ("ids_with_zero_fraction.csv", H + "1.0,2,3\n1,7.00,4.5\n42.,2,1\n", {}, T),
    ("rating_spellings.csv", H + "1,2,3.\n1,7,45e-1\n42,2,.1e1\n", {}, T),
    ("tabs.tsv", "user\titem\trating\n1\t2\t3\n1\t7\t4.5\n42\t2\t1\n", {}, T),
    ("no_header.tsv", "1\t2\t3\n1\t7\t4.5\n42\t2\t1\n", {"columns": (0, 1, 2)}, T),
    ("semicolons.txt", "user;item;rating\n1;2;3\n1;7;4.5\n42;2;1\n", {}, T),
    ("pipes.txt", "user|item|rating\n1|2|3\n1|7|4.5\n42|2|1\n", {}, T),
    ("spaces.txt", "1 2 3\n1 7 4.5\n42 2 1\n", {"columns": (0, 1, 2)}, T),
    ("whitespace_runs.txt", "1   2\t3\n  1 7    4.5\n42 2 1\n", {"columns": (0, 1, 2), "sep": r"\s+"}, T),
    ("u.data", "1\t2\t3\t881250949\n1\t7\t4.5\t891717742\n42\t2\t1\t878887116\n",
     {"columns": (0, 1, 2), "header": False}, T),
    ("positions_and_header.csv", "ts,who,rating,what\n9,1,3,2\n9,1,4.5,7\n9,42,1,2\n",
     {"columns": (1, 3, 2)}, T),
    ("named_reordered.csv", "ts,movieId,r,userId\n9,2,3,1\n9,7,4.5,1\n9,2,1,42\n",
     {"columns": ("userId", "movieId", "r")}, T),
    ("header_names_quoted_newline.csv", '"user\nid",item,rating\n1,2,3\n1,7,4.5\n42,2,1\n',
     {"columns": ("user\nid", "item", "rating")}, T),
    ("duplicate_ignored_column_names.csv", "user,item,rating,x,x\n1,2,3,a,b\n1,7,4.5,c,d\n42,2,1,e,f\n",
     {}, T),
    ("empty_ignored_fields.csv", "user,item,rating,note\n1,2,3,\n1,7,4.5,\n42,2,1,x\n", {}, T),
    ("quoted_newlines_ignored.csv",
     'user,item,rating,note\n1,2,3,"one\ntwo"\n1,7,4.5,"a, b"\n42,2,1,"say ""hi"""\n', {}, T),
    ("latin1_ignored_column.csv", b"user,item,rating,title\n1,2,3,caf\xe9\n1,7,4.5,x\n42,2,1,\xff\n",
     {}, T),
    ("latin1_with_encoding.csv", "us\u00e9r,item,rating,title\n1,2,3,caf\u00e9\n1,7,4.5,x\n42,2,1,y\n"
     .encode("latin-1"), {"columns": ("us\u00e9r", "item", "rating"), "encoding": "latin-1"}, T),
    ("cp1252_with_encoding.csv", "user,item,rating,title\n1,2,3,\u20ac\n1,7,4.5,x\n42,2,1,y\n"
     .encode("cp1252"), {"encoding": "cp1252"}, T),
    ("utf16.csv", (H + ROWS).encode("utf-16"), {"encoding": "utf-16"}, T),
    ("utf16_crlf_title.csv", "user,item,rating,t\r\n1,2,3,\u00e9\r\n1,7,4.5,\u4e2d\r\n42,2,1,x\r\n"
     .encode("utf-16"), {"encoding": "UTF16"}, T),
    ("utf8_sig_named.csv", b"\xef\xbb\xbf" + _b(H + ROWS), {"encoding": "utf-8-sig"}, T),
    ("utf8_title.csv", "user,item,rating,title\n1,2,3,Am\u00e9lie\n1,7,4.5,\u4e03\n42,2,1,x\n", {}, T),
    ("gzipped.csv.gz", gzip.compress(_b(H + ROWS), mtime=0), {}, T),
    ("bzipped.csv.bz2", bz2.compress(_b(H + ROWS)), {}, T),
    ("xzipped.csv.xz", lzma.compress(_b(H + ROWS)), {}, T),
    # -- big ids, kept exactly --
    ("snowflake_ids.csv", H + "9007199254740993,1,4\n9007199254740992,1,3\n", {},
     [(9007199254740993, 1, 4.0), (9007199254740992, 1, 3.0)]),
    ("snowflake_items.csv", H + "1,1234567890123456789,4\n1,1234567890123456788,2\n", {},
     [(1, 1234567890123456789, 4.0), (1, 1234567890123456788, 2.0)]),
    ("int64_max_ids.csv", H + "9223372036854775807,9223372036854775807,5\n0,0,1\n", {},
     [(2**63 - 1, 2**63 - 1, 5.0), (0, 0, 1.0)]),
    ("pair_key_beyond_int64.csv", H + "0,0,4\n4294967296,0,3\n1,4294967295,5\n", {},
     [(0, 0, 4.0), (4294967296, 0, 3.0), (1, 4294967295, 5.0)]),
    ("sparse_ids.csv", H + "5000000000,3,1\n7,3,2\n7,90000000000,3\n", {},
     [(5000000000, 3, 1.0), (7, 3, 2.0), (7, 90000000000, 3.0)]),
    # -- ratings --
    ("scale_bounds.csv", H + "1,2,1\n1,7,5\n42,2,3\n", {"scale": (1, 5)},
     [(1, 2, 1.0), (1, 7, 5.0), (42, 2, 3.0)]),
    ("negative_and_large_ratings.csv", H + "1,2,-1\n1,7,3.4e38\n42,2,0\n", {},
     [(1, 2, -1.0), (1, 7, 3.4e38), (42, 2, 0.0)]),
    ("duplicates_allowed.csv", H + "1,2,3\n1,2,4\n", {"allow_duplicates": True},
     [(1, 2, 3.0), (1, 2, 4.0)]),
    ("negative_zero_id.csv", H + "-0,2,3\n1,2,4\n", {}, [(0, 2, 3.0), (1, 2, 4.0)]),
]

GOOD_NOT_ON_DISK = [
    ("one_member.zip", _zip([("ratings.csv", H + ROWS)]), {}, T),
]

ALL_ON_DISK = [("bad", c) for c in BAD] + [("good", c) for c in GOOD]


def write(folder: Path, name: str, content) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(_b(content))
    return p


def main():
    for kind, (name, content, _, _) in ALL_ON_DISK:
        write(HERE / kind, name, content)
    d = HERE / "bad" / "a_directory.csv"
    d.mkdir(parents=True, exist_ok=True)
    (d / "README").write_text("A folder named like a rating file: read_ratings must refuse it.\n")
    print(f"wrote {len(BAD)} bad and {len(GOOD)} good files (plus a directory) under {HERE}")


if __name__ == "__main__":
    main()
