"""The Python client against a real `plumbline` server started here (a scratch SQLite
database): sign-in and tokens, settings, import, next / submit / skip, adjudication,
progress and quality, streamed exports, releases and load_release.

Usage: python3 tests/test_client.py [PLUMBLINE_BINARY]  (default target/debug/plumbline)
Needs the client installed (`pip install ./clients/python`), pyarrow and datasets."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

try:
    from plumbline_client import ApiError, Client, load_release
except ImportError:  # run from the source tree without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from plumbline_client import ApiError, Client, load_release

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "plumbline")
PASSWORD = "correct horse battery staple 17"
# load_release caches what it reads; keep that out of the home directory (read at import).
HF_CACHE = tempfile.mkdtemp(prefix="plumbline-client-hf-")
os.environ.setdefault("HF_DATASETS_CACHE", HF_CACHE)
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pref(winner):
    criteria = ("compliance", "correctness", "resolution", "tone")
    return {"winner": winner, "strength": 2, "criteria": {c: winner for c in criteria}}


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="plumbline-client-")
        self.env = dict(os.environ, PLUMBLINE_DB=f"sqlite://{self.dir}/plumbline.db")

    def cli(self, *args, stdin=None):
        r = subprocess.run([BIN, *args], env=self.env, input=stdin, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"plumbline {' '.join(args)}: {r.stderr}")
        return r.stdout

    def start(self):
        self.cli("project", "create", "--name", "bank", "--rubric", os.path.join(ROOT, "examples/banking/rubric.toml"))
        self.tokens = {}
        for name, role, scopes, admin in [
            ("lead", "lead", "read,annotate,review,import,export,admin", True),
            ("ann1", "annotator", "read,annotate", False),
            ("ann2", "annotator", "read,annotate", False),
        ]:
            self.cli("user", "add", name, "--password-stdin", *(["--admin"] if admin else []), stdin=PASSWORD + "\n")
            self.cli("member", "add", "--project", "bank", "--user", name, "--role", role)
            self.tokens[name] = self.cli("token", "create", "--user", name, "--scopes", scopes).strip().splitlines()[-1]
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        self.url = f"http://127.0.0.1:{port}"
        self.releases = os.path.join(self.dir, "releases")
        self.log = open(os.path.join(self.dir, "serve.log"), "w")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", f"127.0.0.1:{port}", "--releases-dir", self.releases],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start: " + open(self.log.name).read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.server.start()
        cls.lead = Client(cls.server.url, token=cls.server.tokens["lead"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(HF_CACHE, ignore_errors=True)

    def test_workflow(self):
        lead = self.lead
        # Projects and settings.
        names = [p.name for p in lead.projects()]
        self.assertIn("bank", names)
        p = lead.update_settings("bank", overlap=2, max_overlap=2, gold_rate=0.0)
        self.assertEqual((p.settings["overlap"], p.settings["gold_rate"]), (2, 0.0))
        self.assertEqual(lead.project("bank").settings["max_overlap"], 2)
        with self.assertRaises(ApiError) as e:
            lead.update_settings("bank", overlap=0)
        self.assertEqual(e.exception.status, 422)

        # Users, members and rubrics.
        self.assertEqual(sorted(u.name for u in lead.users()), ["ann1", "ann2", "lead"])
        viewer = lead.create_user("viewer", PASSWORD)
        lead.set_member("bank", "viewer", "viewer")
        roles = {m["user"]["name"]: m["role"] for m in lead.members("bank")}
        self.assertEqual(roles["viewer"], "viewer", roles)
        self.assertEqual(viewer.name, "viewer")
        self.assertEqual([r["version"] for r in lead.rubrics("bank")], [1])

        # Import: three preference items from the banking example.
        items = []
        with open(os.path.join(ROOT, "examples/banking/items.jsonl")) as f:
            for line in f:
                o = json.loads(line)
                if o.get("task") == "preference" and "gold" not in o and len(items) < 3:
                    o.pop("requires", None)  # open to annotators of any expertise
                    items.append(o)
        report = lead.import_items("bank", items)
        self.assertEqual(report.imported, 3, report.raw)
        self.assertEqual(lead.import_items("bank", items).unchanged, 3)

        # Sign-in by password (a session and its CSRF token), and by token.
        ann1 = Client(self.server.url)
        user = ann1.login("ann1", PASSWORD)
        self.assertEqual(user.name, "ann1")
        self.assertEqual(ann1.whoami()["user"]["name"], "ann1")
        ann2 = Client(self.server.url, token=self.server.tokens["ann2"])
        with self.assertRaises(ApiError) as e:
            Client(self.server.url, token="plb_wrong").projects()
        self.assertEqual(e.exception.status, 401)

        # ann1 prefers `a` everywhere; ann2 skips one item, then prefers `b`.
        done = 0
        while True:
            n = ann1.next_task("bank")
            if n.task is None:
                self.assertEqual(done, 3, n.raw)
                break
            self.assertEqual(n.task.task, "preference")
            s = ann1.submit("bank", n.task.assignment, pref("a"), time_ms=4000)
            self.assertFalse(s.resubmitted)
            done += 1
        self.assertEqual(done, 3)
        first = ann2.next_task("bank").task
        ann2.skip("bank", first.assignment, "not my area")
        while True:
            n = ann2.next_task("bank")
            if n.task is None:
                self.assertTrue(n.message or n.reason, n.raw)
                break
            self.assertNotEqual(n.task.item, first.item)
            ann2.submit("bank", n.task.assignment, pref("b"))

        # Two disagreeing votes at max_overlap go to adjudication.
        queue = lead.adjudication_queue("bank")
        self.assertEqual(len(queue), 2, [c.raw for c in queue])
        d = lead.decide("bank", queue[0].item, pref("a"), "a follows the script")
        self.assertEqual(d.item, queue[0].item)
        self.assertEqual(len(lead.adjudication_queue("bank")), 1)

        progress = lead.progress("bank")
        self.assertTrue(progress.whole)
        self.assertEqual(progress.judgments, 5, progress)
        # The skipped item has one vote of its overlap of two.
        self.assertEqual(progress.items, {"open": 1, "adjudication": 1, "resolved": 1}, progress)
        by_name = {a.name: a for a in progress.annotators}
        self.assertEqual((by_name["ann1"].judgments, by_name["ann2"].skipped), (3, 1), progress)
        own = ann2.progress("bank")
        self.assertFalse(own.whole)
        quality = lead.quality("bank")
        self.assertEqual(quality.project, "bank")
        self.assertIsInstance(quality.annotators, list)
        self.assertEqual(len(list(lead.items("bank", page=2))), 3)
        self.assertEqual([i["ext_id"] for i in lead.items("bank", state="adjudication")], [queue[1].item])

        # Exports: JSONL streamed row by row, Parquet to a file.
        rows = list(lead.export_rows("bank", "preference", decision="majority", threshold=0.5))
        self.assertEqual(len(rows), 2, rows)
        self.assertEqual({r["provenance"]["decision"] for r in rows}, {"adjudicated", "single"})
        path = os.path.join(self.server.dir, "pairs.parquet")
        size = lead.export_parquet("bank", "preference", path, decision="majority", threshold=0.5)
        self.assertGreater(size, 0)
        import pyarrow.parquet as pq

        self.assertEqual(pq.read_table(path).num_rows, 2)
        with self.assertRaises(ApiError) as e:
            list(lead.export_rows("bank", "items", threshold=0.5))
        self.assertEqual(e.exception.status, 422)

        # Releases, loaded back as a datasets.DatasetDict.
        for fmt in ("jsonl", "parquet"):
            r = lead.create_release("bank", "preference", format=fmt, decision="majority", threshold=0.5)
            self.assertEqual((r.kind, r.format, r.counts["exported"]), ("preference", fmt, 2))
            dd = load_release(r.location)
            self.assertEqual(dd["train"].num_rows, 2)
            self.assertIn("chosen", dd["train"].column_names)
        self.assertEqual(len(lead.releases("bank")), 2)
        with self.assertRaises(ValueError):
            load_release(self.server.dir)

        # Gold, added by the lead after the fact.
        lead.add_gold("bank", items[2]["id"], pref("a"))
        self.assertEqual([g["item"] for g in lead.gold("bank", item=items[2]["id"])], [items[2]["id"]])

        ann1.logout()
        with self.assertRaises(ApiError):
            ann1.whoami()


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
