"""One schema per kind: the JSONL and Parquet files of one export kind give readers the same
column types. Reads each pair of release folders (JSONL, Parquet) with pyarrow and with
`datasets` loading the data file alone (no card, so nothing declared helps), and compares
every column the two have in common (a rating Parquet file adds one column per criterion).

Usage: same_schema.py JSONL_RELEASE PARQUET_RELEASE [JSONL_RELEASE PARQUET_RELEASE ...]
"""
import os
import sys

import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq

checks = []


def check(name, ok, detail=""):
    checks.append((name, ok))
    print(("ok    " if ok else "FAIL  ") + name + ("" if ok else f": {detail}"))


def data_file(release, ext):
    files = [f for f in os.listdir(release) if f.endswith(ext)]
    assert len(files) == 1, (release, files)
    return os.path.join(release, files[0])


def shape(t):
    """A type without field names of lists or nullability; null (a column JSON left
    empty in every row) matches anything."""
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return ["list", shape(t.value_type)]
    if pa.types.is_struct(t):
        return ["struct", sorted((t.field(i).name, shape(t.field(i).type)) for i in range(t.num_fields))]
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    return str(t)


def same(a, b):
    if a == "null" or b == "null":
        return True
    if isinstance(a, list) and isinstance(b, list) and a[0] == b[0]:
        if a[0] == "list":
            return same(a[1], b[1])
        fa, fb = dict(a[1]), dict(b[1])
        return set(fa) == set(fb) and all(same(fa[k], fb[k]) for k in fa)
    return a == b


args = sys.argv[1:]
if not args or len(args) % 2:
    sys.exit("usage: same_schema.py JSONL_RELEASE PARQUET_RELEASE ...")
try:
    import datasets
    datasets.disable_progress_bars()
except ImportError:
    datasets = None
for jdir, pdir in zip(args[::2], args[1::2]):
    name = os.path.basename(jdir).removesuffix("-jsonl")
    jfile, pfile = data_file(jdir, ".jsonl"), data_file(pdir, ".parquet")
    jt = pj.read_json(jfile).schema
    pt = pq.read_schema(pfile)
    common = [f for f in jt.names if f in pt.names]
    check(f"{name}: every JSONL column is in Parquet", common == jt.names, f"{jt.names} vs {pt.names}")
    differ = [(c, shape(jt.field(c).type), shape(pt.field(c).type)) for c in common
              if not same(shape(jt.field(c).type), shape(pt.field(c).type))]
    check(f"{name}: pyarrow reads one type a column from both", not differ, str(differ))
    if datasets is not None:
        fj = datasets.load_dataset("json", data_files=jfile, split="train").features
        fp = datasets.load_dataset("parquet", data_files=pfile, split="train").features
        differ = [c for c in fj if c in fp and fj[c] != fp[c]
                  and "null" not in repr(fj[c])]
        check(f"{name}: datasets gives one feature a column from both", not differ,
              str([(c, fj[c], fp[c]) for c in differ]))

failed = [n for n, ok in checks if not ok]
print(f"{len(checks) - len(failed)} of {len(checks)} same-schema checks passed")
sys.exit(1 if failed or not checks else 0)
