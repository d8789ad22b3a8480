"""Claims about the article itself (id prefix 00): its examples run as written."""
from __future__ import annotations

from ..article import example3_as_written
from . import claim


@claim("00.example3-fillna-noop",
       "Run as written on a ratings file (one row per rating), the article's "
       "`data.fillna(data.mean(), inplace=True)` does nothing: there is no missing value to fill, "
       "before or after.",
       conditions="The article's Example 3 verbatim on article_data's ratings.csv (columns user_id, "
                  "item_id, user_rating), the long format its model trains on",
       expect="0 missing cells before and after; user_id and item_id unchanged")
def _fillna(seed):
    r = example3_as_written(seed)
    keep = ("rows", "missing before", "missing after", "ids unchanged")
    return {k: r[k] for k in keep}, (r["missing before"] == 0 and r["missing after"] == 0
                                     and r["ids unchanged"])


@claim("00.example3-scaler",
       "The article's `StandardScaler` on `user_rating` is one shift and one scale for every "
       "rating (mean → 0, std → 1): it knows nothing about users or items.",
       conditions="As 00.example3-fillna-noop",
       expect="after: |mean| < 1e-9, |std − 1| < 1e-9; every rating equals a·r + b for one (a, b) "
              "to 1e-9")
def _scaler(seed):
    r = example3_as_written(seed)
    keep = ("rating mean before", "rating std before", "rating mean after", "rating std after",
            "scale a", "shift b", "max error of a·r + b")
    ok = (abs(r["rating mean after"]) < 1e-9 and abs(r["rating std after"] - 1) < 1e-9
          and r["max error of a·r + b"] < 1e-9)
    return {k: r[k] for k in keep}, ok
