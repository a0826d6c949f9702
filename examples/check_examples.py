#!/usr/bin/env python3
"""Validate the example domains under examples/: rubrics, items and gold judgments.

Usage: python3 examples/check_examples.py [EXAMPLES_DIR]

Every sub-folder holding a rubric.toml is a domain; its items.jsonl and gold.jsonl are
checked against the shapes in docs/DESIGN.md ("Native item format", "Rubric file (TOML)",
"Judgment payloads", "The priority rule"). Exits 1 if any error is found. Standard library
only (Python 3.11+ for tomllib).
"""
import json
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

SLUG = re.compile(r"^[a-z0-9_]+$")
REQUIRES = re.compile(r"^[a-z0-9_-]+:(novice|practitioner|expert)$")
ROLES = {"system", "user", "assistant", "tool"}
TASKS = ("preference", "ranking", "rating", "demonstration", "red_team")
SEVERITIES = {"minor", "major", "critical"}
RED_TEAM_OUTCOMES = {"compliant", "safe_refusal", "violation", "over_refusal"}
ITEM_KEYS = {"id", "context", "candidates", "task", "tags", "requires", "metadata", "split"}
TURN_KEYS = {"role", "content", "speaker", "start", "end", "asr_confidence", "interrupted", "overlap"}
CANDIDATE_KEYS = {"id", "model", "content"}
# Domains whose items are call transcripts: every user/assistant turn carries timing and ASR data.
TRANSCRIPT_DOMAINS = {"banking": {"user": "customer", "assistant": "agent"}}
# Minimum contents of each example domain (the brief these files were written to).
MIN_ITEMS = 22
MIN_TASKS = {"ranking": 3, "rating": 2, "demonstration": 2, "red_team": 1}
MIN_GOLD = 6
WORDS = (40, 200)

TRICKY = {
    "script_tag": lambda s: "<script" in s,
    "onerror_attr": lambda s: "onerror=" in s,
    "html_entity": lambda s: "&amp;" in s,
    "double_quote": lambda s: '"' in s,
    "emoji": lambda s: any(0x1F300 <= ord(c) <= 0x1FAFF or 0x2600 <= ord(c) <= 0x27BF for c in s),
    "non_latin_script": lambda s: any(0x0370 <= ord(c) <= 0x1EFF and not 0x1E00 <= ord(c) <= 0x1EFF for c in s),
    "latin_diacritics": lambda s: any(0x00C0 <= ord(c) <= 0x024F or 0x1E00 <= ord(c) <= 0x1EFF for c in s),
}


class Report:
    def __init__(self):
        self.errors = []
        self.notes = []

    def err(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def note(self, where, msg):
        self.notes.append(f"{where}: {msg}")


def words(text):
    return len(text.split())


# ---------------------------------------------------------------- rubric

def load_rubric(path, rep):
    where = str(path)
    try:
        with open(path, "rb") as f:
            rub = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        rep.err(where, f"cannot parse: {e}")
        return None
    if not isinstance(rub.get("name"), str) or not rub["name"].strip():
        rep.err(where, "missing top-level name")
    if "guidelines" in rub and not isinstance(rub["guidelines"], str):
        rep.err(where, "guidelines must be a string")
    unknown = set(rub) - {"name", "guidelines", "criteria", "errors", "edge_cases"}
    if unknown:
        rep.err(where, f"unknown top-level keys {sorted(unknown)}")

    crits = rub.get("criteria", [])
    if not 4 <= len(crits) <= 5:
        rep.err(where, f"{len(crits)} criteria (want 4-5)")
    keys, prios = [], []
    for c in crits:
        k = c.get("key")
        cw = f"{where} criterion {k!r}"
        if not isinstance(k, str) or not SLUG.match(k):
            rep.err(cw, "key must match [a-z0-9_]+")
        if not isinstance(c.get("title"), str) or not c["title"].strip():
            rep.err(cw, "missing title")
        if not isinstance(c.get("description"), str) or not c["description"].strip():
            rep.err(cw, "missing description")
        p = c.get("priority")
        if not isinstance(p, int) or isinstance(p, bool):
            rep.err(cw, "priority must be an integer")
        prios.append(p)
        if "hard" in c and not isinstance(c["hard"], bool):
            rep.err(cw, "hard must be a boolean")
        sc = c.get("scale")
        if not isinstance(sc, dict) or not all(isinstance(sc.get(x), int) for x in ("min", "max")) \
                or sc["min"] >= sc["max"]:
            rep.err(cw, "scale must be { min = int, max = int } with min < max")
        unknown = set(c) - {"key", "title", "priority", "hard", "description", "scale"}
        if unknown:
            rep.err(cw, f"unknown keys {sorted(unknown)}")
        keys.append(k)
    if len(set(keys)) != len(keys):
        rep.err(where, "duplicate criterion keys")
    if sorted(p for p in prios if isinstance(p, int)) != list(range(1, len(crits) + 1)):
        rep.err(where, f"priorities {prios} are not unique and contiguous 1..{len(crits)}")

    crit_by_key = {c.get("key"): c for c in crits}
    errs = rub.get("errors", [])
    if not 5 <= len(errs) <= 8:
        rep.err(where, f"{len(errs)} error tags (want 5-8)")
    ekeys = []
    for e in errs:
        k = e.get("key")
        ew = f"{where} error {k!r}"
        if not isinstance(k, str) or not SLUG.match(k):
            rep.err(ew, "key must match [a-z0-9_]+")
        if e.get("criterion") not in crit_by_key:
            rep.err(ew, f"criterion {e.get('criterion')!r} is not a criterion key")
        if e.get("severity") not in SEVERITIES:
            rep.err(ew, f"severity {e.get('severity')!r} not one of {sorted(SEVERITIES)}")
        if not isinstance(e.get("description"), str) or not e["description"].strip():
            rep.err(ew, "missing description")
        ekeys.append(k)
    if len(set(ekeys)) != len(ekeys):
        rep.err(where, "duplicate error keys")

    edges = rub.get("edge_cases", [])
    if not 4 <= len(edges) <= 6:
        rep.err(where, f"{len(edges)} edge cases (want 4-6)")
    xkeys = []
    for x in edges:
        k = x.get("key")
        if not isinstance(k, str) or not SLUG.match(k):
            rep.err(f"{where} edge case {k!r}", "key must match [a-z0-9_]+")
        if not isinstance(x.get("description"), str) or not x["description"].strip():
            rep.err(f"{where} edge case {k!r}", "missing description")
        xkeys.append(k)
    if len(set(xkeys)) != len(xkeys):
        rep.err(where, "duplicate edge case keys")

    order = [c["key"] for c in sorted(crits, key=lambda c: c.get("priority") or 0)]
    hard_errors = {e["key"] for e in errs
                   if e.get("criterion") in crit_by_key and crit_by_key[e["criterion"]].get("hard")}
    return {
        "name": rub.get("name"),
        "order": order,
        "criteria": crit_by_key,
        "errors": {e.get("key"): e for e in errs},
        "hard_errors": hard_errors,
        "edge_cases": set(xkeys),
    }


# ---------------------------------------------------------------- items

def read_jsonl(path, rep):
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        rep.err(str(path), f"cannot read: {e}")
        return rows
    for n, line in enumerate(lines, 1):
        if not line.strip():
            rep.err(f"{path}:{n}", "blank line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            rep.err(f"{path}:{n}", f"invalid JSON: {e}")
            continue
        if not isinstance(obj, dict):
            rep.err(f"{path}:{n}", "line is not a JSON object")
            continue
        rows.append((n, obj))
    return rows


def check_turns(ctx, where, domain, rep):
    if not isinstance(ctx, list) or not 1 <= len(ctx) <= 8:
        rep.err(where, "context must be a list of 1-8 turns")
        return
    transcript = domain in TRANSCRIPT_DOMAINS or any("start" in t for t in ctx if isinstance(t, dict))
    speakers = {}
    prev_start = prev_end = None
    for i, t in enumerate(ctx):
        tw = f"{where} turn {i}"
        if not isinstance(t, dict):
            rep.err(tw, "turn is not an object")
            continue
        unknown = set(t) - TURN_KEYS
        if unknown:
            rep.err(tw, f"unknown keys {sorted(unknown)}")
        role = t.get("role")
        if role not in ROLES:
            rep.err(tw, f"role {role!r} not one of {sorted(ROLES)}")
        if not isinstance(t.get("content"), str) or not t["content"].strip():
            rep.err(tw, "content must be a non-empty string")
        for flag in ("interrupted", "overlap"):
            if flag in t and not isinstance(t[flag], bool):
                rep.err(tw, f"{flag} must be a boolean")
        if "asr_confidence" in t:
            a = t["asr_confidence"]
            if not isinstance(a, (int, float)) or isinstance(a, bool) or not 0 <= a <= 1:
                rep.err(tw, "asr_confidence must be a number in 0..1")
        if "speaker" in t:
            if not isinstance(t["speaker"], str) or not t["speaker"]:
                rep.err(tw, "speaker must be a non-empty string")
            elif speakers.setdefault(role, t["speaker"]) != t["speaker"]:
                rep.err(tw, f"role {role} has two speakers ({speakers[role]!r}, {t['speaker']!r})")
        if role not in ("user", "assistant") or not transcript:
            continue
        missing = [k for k in ("speaker", "start", "end", "asr_confidence") if k not in t]
        if missing:
            rep.err(tw, f"transcript turn lacks {missing}")
            continue
        want = TRANSCRIPT_DOMAINS.get(domain, {}).get(role)
        if want and t["speaker"] != want:
            rep.err(tw, f"speaker {t['speaker']!r} for role {role} (want {want!r})")
        s, e = t["start"], t["end"]
        if not all(isinstance(x, float) for x in (s, e)):
            rep.err(tw, "start/end must be floats (seconds)")
            continue
        if not 0 <= s < e:
            rep.err(tw, f"start {s} / end {e} not 0 <= start < end")
        if prev_start is not None and s <= prev_start:
            rep.err(tw, f"start {s} does not increase (previous {prev_start})")
        if prev_end is not None and s < prev_end and not t.get("overlap"):
            rep.err(tw, f"starts at {s} before previous turn ends ({prev_end}) without overlap: true")
        prev_start, prev_end = s, e
    last = ctx[-1] if isinstance(ctx[-1], dict) else {}
    if last.get("role") != "user":
        rep.err(where, "context must end with a user turn")


def check_item(obj, where, domain, rubric, rep):
    unknown = set(obj) - ITEM_KEYS
    if unknown:
        rep.err(where, f"unknown keys {sorted(unknown)}")
    task = obj.get("task")
    if task not in TASKS:
        rep.err(where, f"task {task!r} not one of {TASKS}")
    check_turns(obj.get("context"), where, domain, rep)

    cands = obj.get("candidates")
    if not isinstance(cands, list):
        rep.err(where, "candidates must be a list")
        cands = []
    n = len(cands)
    bounds = {"preference": (2, 2), "ranking": (3, 4), "rating": (2, 4),
              "demonstration": (2, 4), "red_team": (0, 1)}.get(task, (0, 4))
    if not bounds[0] <= n <= bounds[1]:
        rep.err(where, f"{task} item has {n} candidates (want {bounds[0]}-{bounds[1]})")
    ids = []
    for c in cands:
        if not isinstance(c, dict):
            rep.err(where, "candidate is not an object")
            continue
        cw = f"{where} candidate {c.get('id')!r}"
        unknown = set(c) - CANDIDATE_KEYS
        if unknown:
            rep.err(cw, f"unknown keys {sorted(unknown)}")
        if not isinstance(c.get("id"), str) or not c["id"]:
            rep.err(cw, "id must be a non-empty string")
        if not isinstance(c.get("model"), str) or not c["model"]:
            rep.err(cw, "model must be a non-empty string")
        text = c.get("content")
        if not isinstance(text, str):
            rep.err(cw, "content must be a string")
        elif not WORDS[0] <= words(text) <= WORDS[1]:
            rep.err(cw, f"{words(text)} words (want {WORDS[0]}-{WORDS[1]})")
        ids.append(c.get("id"))
    dup = [k for k, v in Counter(ids).items() if v > 1]
    if dup:
        rep.err(where, f"candidate ids repeated: {dup}")

    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        rep.err(where, "tags must be a list of non-empty strings")
        tags = []
    if len(set(tags)) != len(tags):
        rep.err(where, "duplicate tags")
    for t in tags:
        if t.startswith("edge:") and t[5:] not in rubric["edge_cases"]:
            rep.err(where, f"tag {t!r} names no edge case of the {domain} rubric")

    req = obj.get("requires", [])
    if not isinstance(req, list):
        rep.err(where, "requires must be a list")
        req = []
    for r in req:
        if not isinstance(r, str) or not REQUIRES.match(r):
            rep.err(where, f"requires entry {r!r} does not match {REQUIRES.pattern}")
        elif r.split(":")[0] != domain:
            rep.note(where, f"requires {r!r} names another domain than {domain!r}")
    if "metadata" in obj and not isinstance(obj["metadata"], dict):
        rep.err(where, "metadata must be an object")
    return ids, tags


def item_text(obj):
    ctx = obj.get("context") if isinstance(obj.get("context"), list) else []
    cands = obj.get("candidates") if isinstance(obj.get("candidates"), list) else []
    parts = [t.get("content", "") for t in ctx if isinstance(t, dict)]
    parts += [c.get("content", "") for c in cands if isinstance(c, dict)]
    meta = obj.get("metadata", {})
    if isinstance(meta, dict):
        parts += [v for v in meta.values() if isinstance(v, str)]
    return "\n".join(p for p in parts if isinstance(p, str))


# ---------------------------------------------------------------- gold

def check_violations(viol, cand_ids, rubric, where, rep):
    if not isinstance(viol, dict):
        rep.err(where, "violations must be an object")
        return {}
    out = {}
    for cid, tags in viol.items():
        if cid not in cand_ids:
            rep.err(where, f"violations name unknown candidate {cid!r}")
            continue
        if not isinstance(tags, list):
            rep.err(where, f"violations[{cid!r}] must be a list")
            continue
        for t in tags:
            if t not in rubric["errors"]:
                rep.err(where, f"violation {t!r} on {cid!r} is not an error key of the rubric")
        if len(set(tags)) != len(tags):
            rep.err(where, f"violations[{cid!r}] repeats a tag")
        out[cid] = set(tags)
    return out


def has_hard(viol, cid, rubric):
    return bool(viol.get(cid, set()) & rubric["hard_errors"])


def check_preference(p, cand_ids, rubric, where, rep):
    winner = p.get("winner")
    if winner not in cand_ids + ["tie"]:
        rep.err(where, f"winner {winner!r} not a candidate id or 'tie'")
    s = p.get("strength")
    if not isinstance(s, int) or isinstance(s, bool) or not 0 <= s <= 3:
        rep.err(where, "strength must be an integer 0..3")
    elif winner == "tie" and s != 0:
        rep.err(where, "a tie must have strength 0")
    crit = p.get("criteria")
    if not isinstance(crit, dict) or set(crit) != set(rubric["order"]):
        rep.err(where, f"criteria must name every criterion key exactly: {rubric['order']}")
        crit = crit if isinstance(crit, dict) else {}
    for k, v in crit.items():
        if v not in cand_ids + ["tie"]:
            rep.err(where, f"criteria[{k!r}] = {v!r} not a candidate id or 'tie'")
    viol = check_violations(p.get("violations", {}), cand_ids, rubric, where, rep)
    for x in p.get("edge_cases", []):
        if x not in rubric["edge_cases"]:
            rep.err(where, f"edge case {x!r} not in rubric")
    override = p.get("override", False)
    if not isinstance(override, bool):
        rep.err(where, "override must be a boolean")
    if not isinstance(p.get("rationale"), str) or not p["rationale"].strip():
        rep.err(where, "payload rationale missing")
    if override:
        rep.note(where, "override: true, priority rule not enforced")
        return
    # Priority rule, part 1: the winner is the winner of the highest-priority non-tied criterion.
    decisive = next(((k, crit[k]) for k in rubric["order"] if crit.get(k, "tie") != "tie"), None)
    if decisive and winner != decisive[1]:
        rep.err(where, f"priority rule: winner {winner!r} but highest-priority non-tied criterion "
                       f"{decisive[0]!r} goes to {decisive[1]!r}")
    if decisive is None and winner != "tie":
        rep.err(where, f"priority rule: every criterion is tied but winner is {winner!r}")
    # Part 2: a candidate with a hard violation cannot beat one without.
    if winner in cand_ids:
        for other in cand_ids:
            if other != winner and has_hard(viol, winner, rubric) and not has_hard(viol, other, rubric):
                bad = sorted(viol[winner] & rubric["hard_errors"])
                rep.err(where, f"priority rule: {winner!r} carries hard violation(s) {bad} "
                               f"but beats {other!r}, which carries none")


def check_ranking(p, cand_ids, rubric, where, rep):
    order = p.get("order")
    if not isinstance(order, list) or not order or not all(isinstance(t, list) and t for t in order):
        rep.err(where, "order must be a non-empty list of non-empty lists")
        return
    flat = [c for tier in order for c in tier]
    if sorted(flat) != sorted(cand_ids):
        rep.err(where, f"order {order} must name every candidate {cand_ids} exactly once")
    viol = check_violations(p.get("violations", {}), cand_ids, rubric, where, rep)
    if not isinstance(p.get("rationale"), str) or not p["rationale"].strip():
        rep.err(where, "payload rationale missing")
    if p.get("override"):
        return
    for i, upper in enumerate(order):
        for lower in order[i + 1:]:
            for x in upper:
                for y in lower:
                    if has_hard(viol, x, rubric) and not has_hard(viol, y, rubric):
                        rep.err(where, f"priority rule: {x!r} has a hard violation but is ranked above {y!r}")


def check_rating(p, cand_ids, rubric, where, rep):
    scores = p.get("scores")
    if not isinstance(scores, dict) or set(scores) != set(cand_ids):
        rep.err(where, f"scores must have exactly the candidates {cand_ids}")
        scores = scores if isinstance(scores, dict) else {}
    for cid, sc in scores.items():
        if not isinstance(sc, dict) or set(sc) != set(rubric["order"]):
            rep.err(where, f"scores[{cid!r}] must name every criterion {rubric['order']}")
            continue
        for k, v in sc.items():
            scale = rubric["criteria"][k].get("scale")
            if not isinstance(scale, dict):
                continue  # already reported as a rubric error
            lo, hi = scale.get("min"), scale.get("max")
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                rep.err(where, f"scores[{cid!r}][{k!r}] = {v!r} outside {lo}..{hi}")
    viol = check_violations(p.get("violations", {}), cand_ids, rubric, where, rep)
    if not isinstance(p.get("rationale"), str) or not p["rationale"].strip():
        rep.err(where, "payload rationale missing")
    if p.get("override"):
        return
    # Pairwise: compare score vectors in priority order; a candidate with a hard violation may
    # not come out ahead of one without.
    def vec(c):
        return tuple(scores.get(c, {}).get(k, 0) for k in rubric["order"])
    for x in cand_ids:
        for y in cand_ids:
            if x != y and has_hard(viol, x, rubric) and not has_hard(viol, y, rubric) and vec(x) > vec(y):
                rep.err(where, f"priority rule: {x!r} has a hard violation but out-scores {y!r} in priority order")


def check_demonstration(p, cand_ids, rubric, where, rep):
    if not isinstance(p.get("response"), str) or not p["response"].strip():
        rep.err(where, "response must be a non-empty string")
    if p.get("based_on") is not None and p["based_on"] not in cand_ids:
        rep.err(where, f"based_on {p['based_on']!r} is not a candidate id")


def check_red_team(p, cand_ids, rubric, where, rep):
    for k in ("attack", "tactic"):
        if not isinstance(p.get(k), str) or not p[k].strip():
            rep.err(where, f"{k} must be a non-empty string")
    if p.get("outcome") not in RED_TEAM_OUTCOMES:
        rep.err(where, f"outcome {p.get('outcome')!r} not one of {sorted(RED_TEAM_OUTCOMES)}")
    s = p.get("severity")
    if not isinstance(s, int) or isinstance(s, bool) or not 0 <= s <= 3:
        rep.err(where, "severity must be an integer 0..3")


PAYLOAD_CHECKS = {"preference": check_preference, "ranking": check_ranking, "rating": check_rating,
                  "demonstration": check_demonstration, "red_team": check_red_team}


# ---------------------------------------------------------------- domain

def check_domain(d, rep):
    domain = d.name
    rubric = load_rubric(d / "rubric.toml", rep)
    stats = {"domain": domain, "items": 0, "tasks": Counter(), "gold": Counter(), "tricky": Counter(),
             "tricky_items": 0, "length": [0, 0], "gold_pref": 0, "pref": 0}
    if rubric is None:
        return stats
    items = {}
    ipath = d / "items.jsonl"
    for n, obj in read_jsonl(ipath, rep):
        iid = obj.get("id")
        where = f"{ipath}:{n} ({iid})"
        if not isinstance(iid, str) or not iid:
            rep.err(where, "id must be a non-empty string")
            continue
        if iid in items:
            rep.err(where, f"id {iid!r} repeated")
            continue
        ids, tags = check_item(obj, where, domain, rubric, rep)
        items[iid] = (obj, ids, tags)
        stats["tasks"][obj.get("task")] += 1
        text = item_text(obj)
        kinds = [k for k, f in TRICKY.items() if f(text)]
        for k in kinds:
            stats["tricky"][k] += 1
        if set(kinds) - {"double_quote"}:
            stats["tricky_items"] += 1
        if "test:escaping" in tags and not kinds:
            rep.err(where, "tagged test:escaping but contains no tricky text")
    stats["items"] = len(items)
    stats["pref"] = stats["tasks"]["preference"]

    gpath = d / "gold.jsonl"
    seen = set()
    for n, g in read_jsonl(gpath, rep):
        iid = g.get("item")
        where = f"{gpath}:{n} ({iid})"
        unknown = set(g) - {"item", "payload", "rationale"}
        if unknown:
            rep.err(where, f"unknown keys {sorted(unknown)}")
        if iid in seen:
            rep.err(where, "gold for this item repeated")
        seen.add(iid)
        if iid not in items:
            rep.err(where, "no such item in items.jsonl")
            continue
        if not isinstance(g.get("rationale"), str) or not g["rationale"].strip():
            rep.err(where, "rationale missing")
        obj, cand_ids, tags = items[iid]
        p = g.get("payload")
        if not isinstance(p, dict):
            rep.err(where, "payload must be an object")
            continue
        task = obj.get("task")
        if task not in PAYLOAD_CHECKS:
            rep.err(where, f"item has unknown task {task!r}")
            continue
        PAYLOAD_CHECKS[task](p, cand_ids, rubric, where, rep)
        stats["gold"][task] += 1
        if task == "preference":
            stats["gold_pref"] += 1
            item_edges = {t[5:] for t in tags if t.startswith("edge:")}
            if set(p.get("edge_cases", [])) != item_edges:
                rep.note(where, f"gold edge_cases {sorted(p.get('edge_cases', []))} differ from item tags {sorted(item_edges)}")
            w = p.get("winner")
            if w in cand_ids and len(set(cand_ids)) == 2:
                lengths = {c.get("id"): words(c.get("content") or "") for c in obj["candidates"]}
                loser = next(c for c in cand_ids if c != w)
                if lengths[w] != lengths[loser]:
                    stats["length"][0 if lengths[w] > lengths[loser] else 1] += 1

    # The brief these examples were written to.
    if len(items) < MIN_ITEMS:
        rep.err(str(ipath), f"{len(items)} items (want at least {MIN_ITEMS})")
    for task, k in MIN_TASKS.items():
        if stats["tasks"][task] < k:
            rep.err(str(ipath), f"{stats['tasks'][task]} {task} items (want at least {k})")
    if sum(stats["gold"].values()) < MIN_GOLD:
        rep.err(str(gpath), f"{sum(stats['gold'].values())} gold judgments (want at least {MIN_GOLD})")
    for task in ("preference", "ranking", "rating"):
        if stats["gold"][task] < 1:
            rep.err(str(gpath), f"no gold judgment for a {task} item")
    return stats


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    rep = Report()
    domains = sorted(p.parent for p in root.glob("*/rubric.toml"))
    if not domains:
        print(f"no */rubric.toml under {root}")
        return 1
    all_stats = [check_domain(d, rep) for d in domains]

    print(f"Examples under {root}\n")
    head = f"{'domain':<11}{'items':>6}" + "".join(f"{t:>15}" for t in TASKS) + f"{'gold':>6}"
    print(head)
    for s in all_stats:
        print(f"{s['domain']:<11}{s['items']:>6}" + "".join(f"{s['tasks'][t]:>15}" for t in TASKS)
              + f"{sum(s['gold'].values()):>6}")
    tot = Counter()
    for s in all_stats:
        tot.update(s["tasks"])
    print(f"{'total':<11}{sum(s['items'] for s in all_stats):>6}" + "".join(f"{tot[t]:>15}" for t in TASKS)
          + f"{sum(sum(s['gold'].values()) for s in all_stats):>6}")

    print("\nGold by task kind:")
    for s in all_stats:
        print(f"  {s['domain']:<11}" + ", ".join(f"{t} {s['gold'][t]}" for t in TASKS if s["gold"][t])
              + f"  (preference items with gold: {s['gold_pref']}/{s['pref']})")

    print("\nLength balance in gold preferences (winner longer / winner shorter; ties excluded):")
    for s in all_stats:
        longer, shorter = s["length"]
        share = longer / (longer + shorter) if longer + shorter else 0
        print(f"  {s['domain']:<11}{longer} / {shorter}  (longer wins {share:.0%})")

    print("\nEscaping coverage (items containing each kind of tricky text):")
    for s in all_stats:
        kinds = ", ".join(f"{k} {s['tricky'][k]}" for k in TRICKY)
        print(f"  {s['domain']:<11}{s['tricky_items']} items beyond plain quotes; {kinds}")

    if rep.notes:
        print(f"\nNotes ({len(rep.notes)}):")
        for m in rep.notes:
            print(f"  {m}")
    if rep.errors:
        print(f"\nFAIL: {len(rep.errors)} error(s)")
        for m in rep.errors:
            print(f"  {m}")
        return 1
    print("\nOK: no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
