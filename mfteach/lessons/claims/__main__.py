"""Print the claims table: python -m mfteach.lessons.claims [LESSON …] [--seeds 0 1]."""
import argparse
import sys

from . import MODULES, table


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mfteach.lessons.claims", description=__doc__)
    ap.add_argument("lessons", nargs="*", help=f"lesson prefixes {sorted(MODULES)} (default: all)")
    ap.add_argument("--seeds", nargs="+", type=int, help="seeds (default: each claim's own)")
    args = ap.parse_args(argv)
    df = table(args.lessons or None, args.seeds, progress=lambda s: print(s, file=sys.stderr))
    with __import__("pandas").option_context("display.max_colwidth", 80, "display.width", 200):
        print(df[["claim", "seed", "conditions", "measured", "holds"]].to_string(index=False))
    bad = df[~df["holds"]]
    print(f"\n{len(df['claim'].unique())} claims, {len(df)} runs: "
          f"{int(df['holds'].sum())} hold, {len(bad)} do not")
    return 1 if len(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
