"""Reads Plumbline's empty exports with pyarrow: every Parquet file is a valid file with its
schema and no rows (`tags` a list of strings), and every JSONL file is empty.

Usage: python3 pyarrow_empty.py DIR   (DIR holds KIND.parquet and KIND.jsonl for each kind)
"""
import glob
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok)))
    print(("ok    " if ok else "FAIL  ") + name + (f": {detail}" if detail and not ok else ""))


folder = sys.argv[1]
files = sorted(glob.glob(os.path.join(folder, "*.parquet")))
check("empty exports: some Parquet files", len(files) >= 7, str(files))
for path in files:
    kind = os.path.basename(path)
    try:
        table = pq.read_table(path)
    except Exception as e:  # noqa: BLE001 - any refusal is the failure being tested
        check(f"{kind}: reads", False, str(e))
        continue
    check(f"{kind}: reads with no rows", table.num_rows == 0, str(table.num_rows))
    check(f"{kind}: has its columns", table.num_columns >= 5, str(table.schema.names))
    if "provenance" in table.schema.names:
        check(f"{kind}: provenance is a struct", pa.types.is_struct(table.schema.field("provenance").type))
    tags = table.schema.field("tags").type
    check(f"{kind}: tags is list<string>", pa.types.is_list(tags) and pa.types.is_string(tags.value_type), str(tags))
for path in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
    check(f"{os.path.basename(path)}: empty", os.path.getsize(path) == 0)
failed = sum(1 for _, ok in checks if not ok)
print(f"pyarrow empty: {len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
