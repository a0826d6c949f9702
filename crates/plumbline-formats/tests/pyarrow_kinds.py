"""Reads Plumbline's rating and ranking Parquet exports with pyarrow, a reader that is not
ours, and checks their columns and types (docs/EXPORTS.md).

Usage: python3 pyarrow_kinds.py RATING.parquet EXPECTED_ROWS RANKING.parquet
"""
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq

ATTRIBUTES = ["correctness", "helpfulness", "coherence", "complexity", "verbosity"]
checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok)))
    print(("ok    " if ok else "FAIL  ") + name + (f": {detail}" if detail and not ok else ""))


def struct_list(table, column, fields):
    t = table.schema.field(column).type
    if not pa.types.is_list(t) or not pa.types.is_struct(t.value_type):
        return False
    names = [t.value_type.field(i).name for i in range(t.value_type.num_fields)]
    return names == fields and all(pa.types.is_string(t.value_type.field(i).type) for i in range(len(names)))


rating_path, expected, ranking_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rating = pq.read_table(rating_path)
check(f"rating: {expected} rows", rating.num_rows == expected, str(rating.num_rows))
check("rating: prompt is a list of {role, content}", struct_list(rating, "prompt", ["role", "content"]))
check("rating: response is a string", pa.types.is_string(rating.schema.field("response").type))
for a in ATTRIBUTES:
    check(f"rating: {a} is a double", pa.types.is_float64(rating.schema.field(a).type))
rows = rating.to_pylist()
check(
    "rating: every score within 0..4 and equal to the scores JSON",
    all(0 <= r[a] <= 4 and json.loads(r["scores"])[a] == r[a] for r in rows for a in ATTRIBUTES),
)
ranking = pq.read_table(ranking_path)
check("ranking: has rows", ranking.num_rows > 0, str(ranking.num_rows))
check(
    "ranking: candidates is a list of {id, model, content}",
    struct_list(ranking, "candidates", ["id", "model", "content"]),
)
ok = True
for r in ranking.to_pylist():
    order = r["order"]  # a list of lists of ids, as in JSONL
    ids = sorted(i for group in order for i in group)
    ok = ok and ids == sorted(c["id"] for c in r["candidates"])
check("ranking: each order covers exactly its candidates", ok)
check(
    "ranking: order is a list of lists of strings",
    str(ranking.schema.field("order").type) == "list<element: list<element: string not null> not null>",
    str(ranking.schema.field("order").type),
)
failed = sum(1 for _, ok in checks if not ok)
print(f"pyarrow kinds: {len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
