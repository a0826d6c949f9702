"""Which b-trees the SQLite server writes under `plumbline bench serve`, page by page.

    python3 docs/tools/wal_pages.py target/release/plumbline <bench serve args>

Runs the benchmark (SQLite backend); 6 s into the measured window of a run with
--warmup 3 --duration >= 15 it reads the server's /proc/<pid>/io write_bytes and counts
the frames appended to the WAL (from the -shm header) for 4 s,
then copies the WAL and maps the pages of the live database, and prints JSON: bytes the server process
wrote per cycle, and of the WAL frames in the copy the commits seen, frames
and distinct pages per commit, and the share of frames by b-tree (mapped with the
`dbstat` virtual table, which needs a `sqlite3` built with
ENABLE_DBSTAT_VTAB, as Debian's is). Copying disturbs the run: read its cycles/s and
latencies from another run.
"""
import collections, json, os, shutil, struct, subprocess, sys, tempfile, time

binary, args = sys.argv[1], sys.argv[2:]


def server():
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f'/proc/{pid}/cmdline').read().split('\x00')
        except OSError:
            continue
        if 'serve' in cmd and '--listen' in cmd:
            db = next((a for a in cmd if a.startswith('sqlite://')), None)
            if db:
                return int(pid), db[len('sqlite://'):]
    return None


def write_bytes(pid):
    for line in open(f'/proc/{pid}/io'):
        if line.startswith('write_bytes:'):
            return int(line.split()[1])


def frames(wal):
    """(page number, commit flag) of every frame of the WAL copy. After a restart the
    log is written from its start again under a new salt; the previous generation's
    frames beyond the new ones are still whole commits (bar the first), so both count."""
    with open(wal, 'rb') as f:
        head = f.read(32)
        page_size = struct.unpack('>I', head[8:12])[0]
        out = []
        while True:
            fh = f.read(24)
            if len(fh) < 24:
                return page_size, out
            pgno, commit = struct.unpack('>II', fh[:8])
            out.append((pgno, commit != 0))
            f.seek(page_size, 1)


def wal_frames_appended(shm, seconds):
    """Frames appended to the WAL in the next `seconds`: the wal-index header's mxFrame
    (u32 at offset 16 of the -shm file, native order), polled every 2 ms; it falls back
    to a few frames when the log restarts."""
    total, last, end = 0, None, time.time() + seconds
    with open(shm, 'rb', buffering=0) as f:
        while time.time() < end:
            f.seek(16)
            mx = struct.unpack('<I', f.read(4))[0]
            if last is not None:
                total += mx - last if mx >= last else mx
            last = mx
            time.sleep(0.002)
    return total


def btrees(db):
    """Page number -> b-tree name, read from the live database (read-only) by `dbstat`.
    The items table itself (1.6 GB at 1M items) is left out: unmapped pages are it."""
    def q(sql):
        return subprocess.run(['sqlite3', '-readonly', db, sql], capture_output=True,
                              text=True, check=True).stdout.splitlines()
    names = {}
    for name in q("SELECT name FROM sqlite_schema WHERE rootpage > 0 AND name <> 'items'"):
        for line in q(f"SELECT pageno FROM dbstat WHERE name = '{name}'"):
            names[int(line)] = name
    return names


p = subprocess.Popen([binary, 'bench', 'serve'] + args, stdout=subprocess.PIPE, text=True)
found = None
while found is None and p.poll() is None:
    time.sleep(0.2)
    found = server()
pid, db = found
time.sleep(6)
w0, t0 = write_bytes(pid), time.time()
wal_frames = wal_frames_appended(db + '-shm', 4)
w1, t1 = write_bytes(pid), time.time()
tmp = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(db)))
copy = os.path.join(tmp, 'copy.wal')
shutil.copyfile(db + '-wal', copy)
names = btrees(db)
res = json.loads(p.communicate()[0])
page_size, fr = frames(copy)
commits, pages, current = 0, [], set()
by_tree = collections.Counter()
for pgno, commit in fr:
    current.add(pgno)
    by_tree[names.get(pgno, 'items')] += 1
    if commit:
        commits += 1
        pages.append(len(current))
        current = set()
total = sum(by_tree.values())
cycles = res['cycles_per_s'] * (t1 - t0)
print(json.dumps({
    'cycles_per_s': res['cycles_per_s'],
    'server_write_bytes_per_cycle': round((w1 - w0) / cycles),
    'wal_bytes_per_cycle': round(wal_frames * (page_size + 24) / cycles),
    'page_size': page_size,
    'wal_frames': total,
    'wal_commits': commits,
    'pages_per_commit_mean': round(sum(pages) / max(1, len(pages)), 1),
    # Commits in the window = frames appended / frames a commit (of the copy).
    'cycles_per_commit': round(cycles / max(1, wal_frames / (total / max(1, commits))), 1),
    'frames_by_btree': {k: round(v / total, 3) for k, v in by_tree.most_common(20)},
}, indent=1))
if os.environ.get('KEEP'):
    print('copy kept in', tmp, file=sys.stderr)
else:
    shutil.rmtree(tmp)
