"""Loads Plumbline release directories with Hugging Face `datasets` (a reader that is not
ours): `load_dataset(dir)` must read the data file alone (not MANIFEST.json or the card),
with the features the card declares, the same for JSONL and Parquet.

Usage: python3 datasets_release.py DIR EXPECTED_ROWS [DIR EXPECTED_ROWS ...]
"""
import json
import os
import sys

import datasets

checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok)))
    print(("ok    " if ok else "FAIL  ") + name + (f": {detail}" if detail and not ok else ""))


loaded = {}
args = sys.argv[1:]
for path, expected in zip(args[0::2], args[1::2]):
    expected = int(expected)
    manifest = json.load(open(os.path.join(path, "MANIFEST.json")))
    name = f"{manifest['project']} {manifest['kind']} {manifest['format']}"
    try:
        dd = datasets.load_dataset(path)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check(f"{name}: load_dataset(dir) reads the release", False, repr(e))
        continue
    check(f"{name}: one split, train", list(dd.keys()) == ["train"], str(list(dd.keys())))
    ds = dd["train"]
    check(f"{name}: {expected} rows", ds.num_rows == expected, str(ds.num_rows))
    columns = set(ds.column_names)
    check(f"{name}: no manifest or card columns", not columns & {"plumbline_release", "files", "sha256"}, str(columns))
    for column in ("item_id", "split", "tags") + (() if manifest["kind"] == "full" else ("provenance",)):
        check(f"{name}: has {column}", column in columns, str(sorted(columns)))
    if manifest["kind"] in ("preference", "reward"):
        for column in ("prompt", "chosen", "rejected", "criteria"):
            check(f"{name}: has {column}", column in columns, str(sorted(columns)))
        row = ds[0]
        check(f"{name}: prompt is messages", row["prompt"][-1]["role"] == "user", str(row["prompt"]))
        check(f"{name}: criteria is an object", isinstance(row["criteria"], dict), repr(row["criteria"]))
    loaded[(f"{manifest['project']} {manifest['kind']}", manifest["format"])] = ds



def canonical(v):
    """Floats to 9 digits: JSONL writes weights rounded, Parquet as computed."""
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    if isinstance(v, list):
        return [canonical(x) for x in v]
    return v


# JSONL and Parquet releases of one kind give the same features (rating adds its
# per-criterion columns in Parquet) and the same rows.
for kind in sorted({k for k, _ in loaded}):
    a, b = loaded.get((kind, "jsonl")), loaded.get((kind, "parquet"))
    if a is None or b is None:
        continue
    fa, fb = a.features, b.features
    common = [c for c in fb if c in fa]
    check(f"{kind}: JSONL columns are Parquet's", set(fa) == set(common), f"{sorted(fa)} vs {sorted(fb)}")
    check(f"{kind}: same features in both formats", all(fa[c] == fb[c] for c in common),
          str([c for c in common if fa[c] != fb[c]]))
    ra = sorted(json.dumps(canonical(r), sort_keys=True) for r in a.select_columns(common))
    rb = sorted(json.dumps(canonical(r), sort_keys=True) for r in b.select_columns(common))
    check(f"{kind}: same rows in both formats", ra == rb)

failed = [n for n, ok in checks if not ok]
print(f"{len(checks) - len(failed)} of {len(checks)} datasets checks passed")
sys.exit(1 if failed or not checks else 0)
