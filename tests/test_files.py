import numpy as np
import pytest

import mfteach as mf


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_named_csv_and_maps_ids(tmp_path):
    p = write(tmp_path, "r.csv", "userId,movieId,rating,ts\n10,7,4.5,1\n10,9,3,2\n42,7,1,3\n")
    r = mf.read_ratings(p, columns=("userId", "movieId", "rating"))
    assert len(r) == 3 and r.n_users == 2 and r.n_items == 2
    assert list(r.user_ids) == [10, 42] and list(r.item_ids) == [7, 9]
    assert np.allclose(r.ratings, [4.5, 3, 1])
    assert r.to_frame(raw_ids=True)["item"].tolist() == [7, 9, 7]


def test_reads_positional_tsv_without_header(tmp_path):
    p = write(tmp_path, "r.tsv", "1\t2\t5\n3\t4\t1\n")
    r = mf.read_ratings(p, columns=(0, 1, 2), scale=(1, 5))
    assert len(r) == 2 and r.scale == (1.0, 5.0)


def test_reads_movielens_udata(tmp_path):
    p = write(tmp_path, "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    r = mf.read_movielens_udata(p)
    assert len(r) == 2 and r.scale == (1.0, 5.0)


@pytest.mark.parametrize("name, text, kwargs, match", [
    ("empty.csv", "", {}, r"empty\.csv: the file is empty"),
    ("hdr.csv", "user,item,rating\n", {}, "header but no ratings"),
    ("miss.csv", "user,item,score\n1,2,3\n", {}, r"missing column\(s\) \['rating'\]"),
    ("nan.csv", "user,item,rating\n1,2,3\n1,3,nan\n", {}, r"line 3, column 'rating' \(rating\): 'nan'"),
    ("txt.csv", "user,item,rating\n1,2,3\n1,3,good\n", {}, r"line 3.*'good' is not a finite number"),
    ("blank.csv", "user,item,rating\n1,2,3\n2,3,\n", {}, r"line 3.*is missing"),
    ("neg.csv", "user,item,rating\n1,2,3\n-4,3,2\n", {}, r"line 3, column 'user'.*-4 is negative"),
    ("frac.csv", "user,item,rating\n1,2.5,3\n", {}, r"line 2, column 'item'.*2.5 is not an integer"),
    ("scale.csv", "user,item,rating\n1,2,3\n1,3,7\n", {"scale": (1, 5)}, r"line 3.*7 is outside the declared scale 1..5"),
    ("dup.csv", "user,item,rating\n1,2,3\n5,5,1\n1,2,4\n", {}, r"lines 2 and 4 rate the same \(user 1, item 2\)"),
    ("short.tsv", "1\t2\n", {"columns": (0, 1, 2)}, r"column position 2 asked, but lines have 2 field"),
    ("gap.csv", "user,item,rating\n1,2,3\n\n1,3,4\n", {}, r"line 3 is empty"),
])
def test_bad_files_name_the_file_line_and_problem(tmp_path, name, text, kwargs, match):
    p = write(tmp_path, name, text)
    with pytest.raises(ValueError, match=match) as e:
        mf.read_ratings(p, **kwargs)
    assert name in str(e.value)


def test_missing_file_and_binary_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        mf.read_ratings(tmp_path / "nope.csv")
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe\x00\x81garbage\x00\n")
    with pytest.raises(ValueError, match="bin.csv"):
        mf.read_ratings(p)


def test_duplicates_kept_only_when_asked(tmp_path):
    p = write(tmp_path, "dup.csv", "user,item,rating\n1,2,3\n1,2,4\n")
    r = mf.read_ratings(p, allow_duplicates=True)
    assert len(r) == 2


def test_the_example_file_in_data_reads_as_documented():
    """data/toy_ratings.csv is the format students copy for their own data (data/README.md)."""
    from pathlib import Path

    p = Path(__file__).resolve().parents[1] / "data" / "toy_ratings.csv"
    r = mf.read_ratings(p, scale=(1, 5))
    assert (len(r), r.n_users, r.n_items) == (30, 8, 6)
    assert r.scale == (1.0, 5.0) and set(np.unique(r.ratings)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
