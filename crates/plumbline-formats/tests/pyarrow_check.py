"""Reads Plumbline's preference exports with pyarrow, a reader that is not ours, and checks
the columns and types a DPO trainer (TRL's conversational preference format) expects.

Usage: python3 pyarrow_check.py PAIRS.jsonl PAIRS.parquet EXPECTED_ROWS
"""
import sys

import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq

MESSAGE = {"role": pa.string(), "content": pa.string()}
checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok)))
    print(("ok    " if ok else "FAIL  ") + name + (f": {detail}" if detail and not ok else ""))


def messages(table, column):
    t = table.schema.field(column).type
    if not pa.types.is_list(t) or not pa.types.is_struct(t.value_type):
        return False, str(t)
    fields = {t.value_type.field(i).name: t.value_type.field(i).type for i in range(t.value_type.num_fields)}
    return fields == MESSAGE, str(t)


def check_table(kind, table, expected):
    check(f"{kind}: {expected} rows", table.num_rows == expected, str(table.num_rows))
    for column in ("prompt", "chosen", "rejected"):
        ok, t = messages(table, column)
        check(f"{kind}: {column} is a list of {{role, content}} messages", ok, t)
    check(f"{kind}: item_id is a string", pa.types.is_string(table.schema.field("item_id").type))
    strength = table.schema.field("strength").type
    # Imported choices record no strength: all null (unknown), which JSON types as null.
    check(f"{kind}: strength is an integer or unknown", pa.types.is_integer(strength) or pa.types.is_null(strength), str(strength))
    check(f"{kind}: no strength is made up", all(r is None for r in table.column("strength").to_pylist()))
    tags = table.schema.field("tags").type
    # JSON gives an all-empty list no element type (list<null>); Parquet states it.
    check(
        f"{kind}: tags is a list of strings",
        pa.types.is_list(tags) and (pa.types.is_string(tags.value_type) or pa.types.is_null(tags.value_type)),
        str(tags),
    )
    rows = table.to_pylist()
    check(f"{kind}: prompts end with a user turn", all(r["prompt"][-1]["role"] == "user" for r in rows))
    check(
        f"{kind}: chosen and rejected are one assistant message each",
        all(len(r[c]) == 1 and r[c][0]["role"] == "assistant" for r in rows for c in ("chosen", "rejected")),
    )
    check(f"{kind}: chosen differs from rejected", all(r["chosen"] != r["rejected"] for r in rows))
    return rows


jsonl, parquet, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
a = check_table("jsonl", pj.read_json(jsonl), expected)
b = check_table("parquet", pq.read_table(parquet), expected)
tags = pq.read_schema(parquet).field("tags").type
check("parquet: tags is list<string>", pa.types.is_list(tags) and pa.types.is_string(tags.value_type), str(tags))
check("parquet: strength is int64", pq.read_schema(parquet).field("strength").type == pa.int64())
check("jsonl and parquet hold the same tags", [r["tags"] for r in a] == [r["tags"] for r in b])


def pruned(v):
    """Without nulls: a struct read back has every field, a JSON object only those set."""
    if isinstance(v, dict):
        return {k: pruned(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [pruned(x) for x in v]
    return v


provenance = pq.read_schema(parquet).field("provenance").type
check("parquet: provenance is a struct", pa.types.is_struct(provenance), str(provenance))
check(
    "jsonl and parquet hold the same provenance",
    [pruned(r["provenance"]) for r in a] == [pruned(r["provenance"]) for r in b],
)
check(
    "jsonl and parquet hold the same pairs",
    [(r["item_id"], r["chosen"], r["rejected"]) for r in a] == [(r["item_id"], r["chosen"], r["rejected"]) for r in b],
)
failed = sum(1 for _, ok in checks if not ok)
print(f"pyarrow: {len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
