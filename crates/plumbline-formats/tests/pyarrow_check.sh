#!/usr/bin/env bash
# Imports the HH-RLHF and Label Studio fixtures, exports preference pairs as JSONL and
# Parquet with the built binary, and reads both with pyarrow (pyarrow_check.py); writes
# releases of every data kind in both formats and loads them with `datasets`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../../target/debug/plumbline}"
python3 -c "import pyarrow" 2>/dev/null || python3 -m pip install -q pyarrow
# `datasets` with the `Json` feature type (the release card declares open-ended maps `json`).
python3 -c "from datasets import Json" 2>/dev/null || python3 -m pip install -q -U datasets
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
export PLUMBLINE_DB="sqlite://$dir/plumbline.db"
"$bin" project create --name pyarrow --rubric "$here/../../../examples/banking/rubric.toml" >/dev/null
"$bin" import --project pyarrow "$here/fixtures/hh_rlhf.jsonl" >/dev/null 2>&1
"$bin" import --project pyarrow "$here/fixtures/label_studio_pairwise.json" >/dev/null 2>&1
"$bin" export --project pyarrow --kind preference --include-external --out "$dir/pairs.jsonl" 2>/dev/null
"$bin" export --project pyarrow --kind preference --include-external --format parquet --out "$dir/pairs.parquet" 2>/dev/null
# 5 pairs: the Label Studio task two annotators agree on has two external votes (posterior
# 0.845 at their 0.7 reliability), below the 0.9 threshold; a lone vote passes as `single`.
python3 "$here/pyarrow_check.py" "$dir/pairs.jsonl" "$dir/pairs.parquet" 5
# Rating (HelpSteer2's attributes as criteria) and ranking (oasst1's ranks) as Parquet.
"$bin" project create --name pyarrow-kinds --rubric "$here/fixtures/helpsteer2_rubric.toml" >/dev/null
"$bin" import --project pyarrow-kinds "$here/fixtures/helpsteer2.jsonl" >/dev/null 2>&1
"$bin" import --project pyarrow-kinds "$here/fixtures/oasst1.jsonl" >/dev/null 2>&1
"$bin" export --project pyarrow-kinds --kind rating --include-external --format parquet --out "$dir/rating.parquet" 2>/dev/null
"$bin" export --project pyarrow-kinds --kind ranking --include-external --format parquet --out "$dir/ranking.parquet" 2>/dev/null
python3 "$here/pyarrow_kinds.py" "$dir/rating.parquet" 6 "$dir/ranking.parquet"
# Empty exports of every kind: valid Parquet files with their schema, empty JSONL files.
"$bin" project create --name pyarrow-empty --rubric "$here/../../../examples/banking/rubric.toml" >/dev/null
mkdir "$dir/empty"
for kind in preference reward sft ranking rating red-team full; do
  "$bin" export --project pyarrow-empty --kind "$kind" --format parquet --out "$dir/empty/$kind.parquet" 2>/dev/null
  "$bin" export --project pyarrow-empty --kind "$kind" --out "$dir/empty/$kind.jsonl" 2>/dev/null
done
python3 "$here/pyarrow_empty.py" "$dir/empty"
# Files as other tools write them: pyarrow's Parquet in every codec, UltraFeedback, a
# gzip-compressed HelpSteer2-preference file. Each codec holds the same 50 pairs.
mkdir "$dir/written"
python3 "$here/pyarrow_write.py" "$dir/written"
"$bin" project create --name pyarrow-read --rubric "$here/../../../examples/banking/rubric.toml" >/dev/null
for codec in zstd gzip brotli lz4 snappy none; do
  out="$("$bin" import --project pyarrow-read --json "$dir/written/trl_$codec.parquet" 2>/dev/null)"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["format"] == "trl" and r["imported"] + r["unchanged"] == 50, r; print("ok    trl parquet ('"$codec"') imports 50 pairs")' "$out"
done
for file in ultrafeedback.parquet helpsteer2_preference.jsonl.gz; do
  out="$("$bin" import --project pyarrow-read --json "$dir/written/$file" 2>/dev/null)"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["stored"] and r["imported"] == 10, r; print("ok    " + sys.argv[2] + ": " + r["format"])' "$out" "$file"
done
# Releases are Hugging Face dataset folders: `datasets.load_dataset(dir)` reads the data
# file alone (never MANIFEST.json or the card) with the card's features, in both formats.
mkdir "$dir/releases"
args=()
for format in jsonl parquet; do
  for kind_rows in preference:5 reward:5 sft:5 full:7; do
    kind="${kind_rows%%:*}"
    "$bin" release create --project pyarrow --kind "$kind" --include-external --format "$format" --out "$dir/releases/pyarrow-$kind-$format" >/dev/null 2>&1
    args+=("$dir/releases/pyarrow-$kind-$format" "${kind_rows##*:}")
  done
  for kind_rows in rating:6 ranking:2 full:5; do
    kind="${kind_rows%%:*}"
    "$bin" release create --project pyarrow-kinds --kind "$kind" --include-external --format "$format" --out "$dir/releases/kinds-$kind-$format" >/dev/null 2>&1
    args+=("$dir/releases/kinds-$kind-$format" "${kind_rows##*:}")
  done
done
HF_DATASETS_CACHE="$dir/hf-cache" HF_HUB_OFFLINE=1 python3 "$here/datasets_release.py" "${args[@]}"
# One schema per kind: the JSONL and Parquet files of a kind give pyarrow and `datasets`
# (reading the data file alone, without the card) the same type for every column.
pairs=()
for release in "$dir"/releases/*-jsonl; do
  pairs+=("$release" "${release%-jsonl}-parquet")
done
HF_DATASETS_CACHE="$dir/hf-cache" HF_HUB_OFFLINE=1 python3 "$here/same_schema.py" "${pairs[@]}"
