"""CPU time per next+submit cycle of `plumbline bench serve`, by process group.

    python3 docs/tools/bench_cpu.py target/release/plumbline results.jsonl <bench serve args>

Runs the benchmark, reads utime+stime of every process from /proc/<pid>/stat at 4 s and
14 s after the first `plumbline serve` child appears (inside the measured window of a run
with --warmup 3 --duration >= 15), and prints (and appends to results.jsonl) the
benchmark's figures with the cores each group used and its milliseconds of CPU per cycle:
`postgres` (every PostgreSQL process, autovacuum and checkpointer included), `server`
(processes started as `serve --listen`), `client` (the `bench serve` process itself),
`other` (everything else: another user's builds on a shared machine), and the bytes
the servers wrote per cycle (/proc/<pid>/io write_bytes: WAL and checkpoints). With
`--backend postgres` it adds PostgreSQL's shared-buffer visits (`blks_hit + blks_read`
of `pg_stat_database`, all databases) and transactions per cycle over the same window:
counts of work done, which a noisy machine does not move the way it moves CPU time.
Note that another
`bench serve` running at the same time is counted in the same groups.
"""
import os, sys, time, subprocess, json
# usage: cpu.py <binary> <outfile> bench args...
binary, out = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
tick = os.sysconf('SC_CLK_TCK')
def snap():
    d = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try:
            with open(f'/proc/{pid}/stat') as f: st = f.read()
            comm = st[st.index('(')+1:st.rindex(')')]
            rest = st[st.rindex(')')+2:].split()
            ut, stt = int(rest[11]), int(rest[12])
            cmd = open(f'/proc/{pid}/cmdline').read()
        except Exception: continue
        d[pid] = (comm, cmd, ut+stt)
    return d
def group(comm, cmd):
    if comm.startswith('postgres') or cmd.startswith('postgres'): return 'postgres'
    if 'serve\x00--listen' in cmd: return 'server'
    if 'bench\x00serve' in cmd: return 'client'
    return 'other'
p = subprocess.Popen([binary, 'bench', 'serve'] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
# wait for setup: poll until a server process exists
while True:
    time.sleep(0.2)
    if any(group(c, m) == 'server' for c, m, _ in snap().values()): break
    if p.poll() is not None: break
time.sleep(4)
def written():
    """Bytes the server processes wrote (WAL and checkpoints), /proc/<pid>/io write_bytes."""
    total = 0
    for pid, (c, m, _) in snap().items():
        if group(c, m) == 'server':
            try:
                total += int(next(l for l in open(f'/proc/{pid}/io') if l.startswith('write_bytes:')).split()[1])
            except Exception: pass
    return total
pg = '--backend' in args and args[args.index('--backend') + 1] == 'postgres'
def pg_counts():
    """(buffer visits, commits + rollbacks) of every database, from pg_stat_database."""
    if not pg: return (0, 0)
    url = os.environ.get('PLUMBLINE_TEST_POSTGRES_URL', 'postgres://postgres@127.0.0.1:5432/postgres')
    r = subprocess.run(['psql', url, '-Atc', 'SELECT sum(blks_hit + blks_read), sum(xact_commit + xact_rollback) FROM pg_stat_database'],
                       capture_output=True, text=True)
    try:
        hit, xact = r.stdout.strip().split('|')
        return (int(hit), int(xact))
    except ValueError:
        return (0, 0)
a = snap(); w0 = written(); g0 = pg_counts(); t0 = time.time(); la0 = os.getloadavg()[0]
time.sleep(10)
b = snap(); w1 = written(); g1 = pg_counts(); t1 = time.time(); la1 = os.getloadavg()[0]
o, e = p.communicate()
res = json.loads(o)
tot = {}
for pid, (c, m, v) in b.items():
    g = group(c, m)
    v0 = a.get(pid, (c, m, 0))[2]
    tot[g] = tot.get(g, 0) + (v - v0) / tick
secs = t1 - t0
cyc = res['cycles_per_s'] * secs
line = {k: round(v / secs, 2) for k, v in tot.items()}
per = {k: round(1000 * v / cyc, 3) for k, v in tot.items() if k != 'other'}
summary = dict(cycles_per_s=res['cycles_per_s'], next_p50=res['next_ms']['p50'], next_p99=res['next_ms']['p99'], submit_p50=res['submit_ms']['p50'], submit_p99=res['submit_ms']['p99'], rss=res['server_peak_rss_mb'], errors=res['request_errors'], cores=line, ms_cpu_per_cycle=per, server_kb_written_per_cycle=round((w1 - w0) / cyc / 1000, 1), pg_buffers_per_cycle=round((g1[0] - g0[0]) / cyc, 1), pg_transactions_per_cycle=round((g1[1] - g0[1]) / cyc, 2), load=(round(la0,2), round(la1,2)))
print(json.dumps(summary))
open(out, 'a').write(json.dumps(summary) + '\n')
