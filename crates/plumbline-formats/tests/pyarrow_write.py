"""Writes files as other tools ship them, for `plumbline import` to read (pyarrow_check.sh):
TRL conversational preference rows as Parquet in every codec pyarrow writes (polars
defaults to zstd), UltraFeedback rows as zstd Parquet, HelpSteer2-preference rows as
`.jsonl.gz`.

Usage: python3 pyarrow_write.py DIR
"""
import gzip
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1]


def msg(role, content):
    return {"role": role, "content": content}


rows = [
    {
        "prompt": [msg("user", f"Question {i}?")],
        "chosen": [msg("assistant", f"Good answer {i}")],
        "rejected": [msg("assistant", f"Bad answer {i}")],
        "score_chosen": 8.0,
        "score_rejected": 3.0,
    }
    for i in range(50)
]
table = pa.Table.from_pylist(rows)
for codec in ["zstd", "gzip", "brotli", "lz4", "snappy", "none"]:
    pq.write_table(table, os.path.join(out, f"trl_{codec}.parquet"), compression=codec)
completions = [
    {
        "model": m,
        "response": f"{m} says",
        "annotations": {"helpfulness": {"Rating": r, "Rationale": "x"}, "honesty": {"Rating": "N/A", "Rationale": ""}},
        "overall_score": s,
    }
    for m, r, s in [("a", "4", 7.5), ("b", "2", 5.0)]
]
uf = [{"source": "sharegpt", "instruction": f"Instruction {i}", "completions": completions} for i in range(10)]
pq.write_table(pa.Table.from_pylist(uf), os.path.join(out, "ultrafeedback.parquet"), compression="zstd")
with gzip.open(os.path.join(out, "helpsteer2_preference.jsonl.gz"), "wt") as f:
    for i in range(10):
        row = {
            "split": "train",
            "prompt": f"Prompt {i}",
            "response_1": "first",
            "response_2": f"second {i}",
            "preference_strength": (i % 7) - 3,
            "preference_statement": "@Response 1 is better.",
            "preference_elaboration": "Because.",
        }
        f.write(json.dumps(row) + "\n")
