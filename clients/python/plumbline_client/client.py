"""The HTTP client: one method an operation of `/api/v1` (see the server's
`/api/v1/openapi.json`), over `urllib` from the standard library."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterable, Iterator, List, Optional, Union

from .models import (
    AdjudicationCase,
    Decision,
    ImportReport,
    NextTask,
    Progress,
    Project,
    QualityReport,
    Release,
    Submitted,
    User,
)

CHUNK = 1 << 16


class ApiError(Exception):
    """A reply outside 2xx: the HTTP status and the server's error body
    (`{"error": {"code", "message", "field"?, "criterion"?}}`)."""

    def __init__(self, status: int, body: Any):
        self.status = status
        self.body = body
        err = body.get("error", {}) if isinstance(body, dict) else {}
        self.code = err.get("code")
        self.message = err.get("message", body if isinstance(body, str) else "")
        self.field = err.get("field")
        super().__init__(f"HTTP {status}: {self.code}: {self.message}")


def _query(params: Dict[str, Any]) -> str:
    q = {}
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, (list, tuple)):
            v = ",".join(v)
        q[k] = v
    return ("?" + urllib.parse.urlencode(q)) if q else ""


def _seg(s: Union[str, int]) -> str:
    return urllib.parse.quote(str(s), safe="")


class Client:
    """A Plumbline server at `base_url`, authenticated by an API token (`plumbline token
    create`, sent as a bearer token) or by `login(name, password)` (a session cookie;
    changes then carry the session's CSRF token)."""

    def __init__(self, base_url: str, token: Optional[str] = None, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.csrf_token: Optional[str] = None
        self._cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._cookies))

    # -- transport -------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None, *, raw: Optional[bytes] = None,
                 content_type: Optional[str] = None, params: Optional[Dict[str, Any]] = None):
        url = self.base_url + path + _query(params or {})
        data = raw
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif content_type:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.csrf_token and method not in ("GET", "HEAD"):
            headers["X-CSRF-Token"] = self.csrf_token
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            return self._opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            raise ApiError(e.code, parsed) from None

    def _json(self, method: str, path: str, body: Any = None, **kw) -> Any:
        with self._request(method, path, body, **kw) as r:
            data = r.read()
        return json.loads(data) if data else None

    # -- sign-in -----------------------------------------------------------------------

    def login(self, name: str, password: str) -> User:
        """Signs in with a name and password: a session cookie, and its CSRF token for
        changes. Use either this or a token."""
        o = self._json("POST", "/api/v1/session", {"name": name, "password": password})
        self.csrf_token = o["csrf_token"]
        return User.from_json(o["user"])

    def logout(self) -> None:
        self._json("DELETE", "/api/v1/session")
        self.csrf_token = None

    def whoami(self) -> Dict[str, Any]:
        """`{"user", "scopes", "csrf_token"?}`: who the token or session is."""
        return self._json("GET", "/api/v1/session")

    # -- projects and settings ---------------------------------------------------------

    def projects(self) -> List[Project]:
        return [Project.from_json(p) for p in self._json("GET", "/api/v1/projects")]

    def project(self, project: str) -> Project:
        return Project.from_json(self._json("GET", f"/api/v1/projects/{_seg(project)}"))

    def update_settings(self, project: str, **settings: Any) -> Project:
        """Changes the named settings only (`overlap=3`, `gold_rate=0.1`, …); a lead's."""
        return Project.from_json(self._json("PATCH", f"/api/v1/projects/{_seg(project)}", settings))

    # -- import ------------------------------------------------------------------------

    def import_items(self, project: str, items: Union[bytes, str, Iterable[Dict[str, Any]]], *,
                     update: bool = False, report_errors: bool = False) -> ImportReport:
        """Imports native JSONL items: bytes or text of JSONL, or an iterable of dicts."""
        if isinstance(items, str):
            data = items.encode()
        elif isinstance(items, (bytes, bytearray)):
            data = bytes(items)
        else:
            data = b"".join(json.dumps(i).encode() + b"\n" for i in items)
        o = self._json("POST", f"/api/v1/projects/{_seg(project)}/items", raw=data,
                       content_type="application/x-ndjson",
                       params={"update": update or None, "report_errors": report_errors or None})
        return ImportReport.from_json(o)

    def item(self, project: str, item: str) -> Dict[str, Any]:
        return self._json("GET", f"/api/v1/projects/{_seg(project)}/items/{_seg(item)}")

    # -- annotation --------------------------------------------------------------------

    def next_task(self, project: str) -> NextTask:
        """Leases the next task (or resumes the live one); `.task` is None when there is
        no work, with `.message` and `.reason` saying why."""
        return NextTask.from_json(self._json("POST", f"/api/v1/projects/{_seg(project)}/tasks/next"))

    def submit(self, project: str, assignment: int, payload: Dict[str, Any],
               time_ms: Optional[int] = None) -> Submitted:
        body: Dict[str, Any] = {"payload": payload}
        if time_ms is not None:
            body["time_ms"] = time_ms
        return Submitted.from_json(
            self._json("POST", f"/api/v1/projects/{_seg(project)}/tasks/{assignment}/submit", body))

    def skip(self, project: str, assignment: int, reason: str) -> None:
        self._json("POST", f"/api/v1/projects/{_seg(project)}/tasks/{assignment}/skip", {"reason": reason})

    # -- review ------------------------------------------------------------------------

    def adjudication_queue(self, project: str, limit: Optional[int] = None) -> List[AdjudicationCase]:
        o = self._json("GET", f"/api/v1/projects/{_seg(project)}/adjudication", params={"limit": limit})
        return [AdjudicationCase.from_json(c) for c in o]

    def decide(self, project: str, item: str, payload: Dict[str, Any], rationale: str,
               promote_to_gold: bool = False) -> Decision:
        body = {"payload": payload, "rationale": rationale, "promote_to_gold": promote_to_gold}
        return Decision.from_json(
            self._json("POST", f"/api/v1/projects/{_seg(project)}/adjudication/{_seg(item)}", body))

    # -- figures -----------------------------------------------------------------------

    def progress(self, project: str) -> Progress:
        """The project's progress (a reviewer's or lead's: every annotator; else one's own)."""
        return Progress.from_json(self._json("GET", f"/api/v1/projects/{_seg(project)}/progress"))

    def quality(self, project: str) -> QualityReport:
        """The quality table: per-annotator reliability, gold accuracy and bias flags."""
        return QualityReport.from_json(self._json("GET", f"/api/v1/projects/{_seg(project)}/quality"))

    # -- users, members, rubrics, gold, split -------------------------------------------

    def users(self) -> List[User]:
        return [User.from_json(u) for u in self._json("GET", "/api/v1/users")]

    def create_user(self, name: str, password: str, admin: bool = False) -> User:
        """Adds a user (an administrator's)."""
        return User.from_json(self._json("POST", "/api/v1/users", {"name": name, "password": password, "admin": admin}))

    def members(self, project: str) -> List[Dict[str, Any]]:
        """`[{"user": {...}, "role": "lead"|"reviewer"|"annotator"|"viewer"}]`."""
        return self._json("GET", f"/api/v1/projects/{_seg(project)}/members")

    def set_member(self, project: str, user: Union[str, int], role: str) -> Dict[str, Any]:
        """Gives `user` (a name or id) a role in the project, replacing an earlier one."""
        return self._json("PUT", f"/api/v1/projects/{_seg(project)}/members/{_seg(user)}", {"role": role})

    def rubrics(self, project: str) -> List[Dict[str, Any]]:
        """Every rubric version: `[{"version", "rubric", "created_at"}]`."""
        return self._json("GET", f"/api/v1/projects/{_seg(project)}/rubrics")

    def add_rubric_version(self, project: str, toml: str) -> Dict[str, Any]:
        return self._json("POST", f"/api/v1/projects/{_seg(project)}/rubrics", {"toml": toml})

    def gold(self, project: str, item: Optional[str] = None) -> List[Dict[str, Any]]:
        """Gold answers (every version), of one item if named."""
        return self._json("GET", f"/api/v1/projects/{_seg(project)}/gold", params={"item": item})

    def add_gold(self, project: str, item: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        return self._json("POST", f"/api/v1/projects/{_seg(project)}/gold", {"item": item, "payload": payload})

    def split(self, project: str, **options: Any) -> Dict[str, Any]:
        """Draws the evaluation split (`seed`, `eval_fraction`, `dry_run`, …; see DESIGN.md)."""
        return self._json("POST", f"/api/v1/projects/{_seg(project)}/split", options)

    # -- items ---------------------------------------------------------------------------

    def items(self, project: str, state: Optional[str] = None, gold: Optional[bool] = None,
              page: int = 500) -> Iterator[Dict[str, Any]]:
        """Every stored item (`state` open, adjudication or resolved; `gold`), page by page."""
        after = None
        while True:
            o = self._json("GET", f"/api/v1/projects/{_seg(project)}/items",
                           params={"after": after, "limit": page, "state": state, "gold": gold})
            yield from o["items"]
            after = o.get("next")
            if after is None:
                return

    # -- exports and releases ----------------------------------------------------------

    def _export(self, project: str, kind: str, fmt: str, filters: Dict[str, Any]):
        params = dict(filters, kind=kind, format=fmt)
        resp = self._request("GET", f"/api/v1/projects/{_seg(project)}/export", params=params)
        return resp

    def export_rows(self, project: str, kind: str, **filters: Any) -> Iterator[Dict[str, Any]]:
        """Streams a JSONL export, one row (dict) at a time, in constant memory. Filters
        as in EXPORTS.md: `split`, `tags` (a list), `rubric_version`, `min_agreement`,
        `min_expertise`, `include_external`, `decision`, `threshold`."""
        with self._export(project, kind, "jsonl", filters) as r:
            for line in r:
                line = line.strip()
                if line:
                    yield json.loads(line)

    def export_parquet(self, project: str, kind: str, path: "os.PathLike[str] | str", **filters: Any) -> int:
        """Streams a Parquet export into `path` (written beside it, then renamed); returns
        its size in bytes."""
        path = os.fspath(path)
        partial = path + ".partial"
        with self._export(project, kind, "parquet", filters) as r, open(partial, "wb") as f:
            shutil.copyfileobj(r, f, CHUNK)
        os.replace(partial, path)
        return os.path.getsize(path)

    def releases(self, project: str) -> List[Release]:
        return [Release.from_json(r) for r in self._json("GET", f"/api/v1/projects/{_seg(project)}/releases")]

    def create_release(self, project: str, kind: str, format: str = "jsonl", **filters: Any) -> Release:
        """Writes a release on the server (under its `--releases-dir`) and records it."""
        body = dict(filters, kind=kind, format=format)
        if isinstance(body.get("tags"), (list, tuple)):
            body["tags"] = ",".join(body["tags"])
        body.setdefault("include_external", False)
        return Release.from_json(self._json("POST", f"/api/v1/projects/{_seg(project)}/releases", body))
