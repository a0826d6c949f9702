"""Typed views of the API's main objects (field names as in the OpenAPI document). Each
keeps the whole JSON object as `raw`, so fields added by a newer server stay reachable."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class User:
    id: int
    name: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "User":
        return cls(id=o["id"], name=o["name"], raw=o)


@dataclass
class Project:
    id: int
    name: str
    settings: Dict[str, Any]
    rubric_version: int
    created_at: int
    items: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "Project":
        return cls(
            id=o["id"],
            name=o["name"],
            settings=o["settings"],
            rubric_version=o["rubric_version"],
            created_at=o["created_at"],
            items=o.get("items"),
            raw=o,
        )


@dataclass
class ImportReport:
    """What an import stored (`imported`, `unchanged`, `updated`, …) and the bad lines."""

    committed: bool
    imported: int
    unchanged: int
    updated: int
    error_count: int
    errors: List[Dict[str, Any]]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "ImportReport":
        return cls(
            committed=bool(o.get("committed", False)),
            imported=o.get("imported", 0),
            unchanged=o.get("unchanged", 0),
            updated=o.get("updated", 0),
            error_count=o.get("error_count", 0),
            errors=o.get("errors", []),
            raw=o,
        )


@dataclass
class Task:
    """A leased task: submit or skip it by its `assignment`."""

    assignment: int
    item: str
    task: str
    content: Dict[str, Any]
    display_order: List[str]
    rubric_version: int
    expires_at: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "Task":
        return cls(
            assignment=o["assignment"],
            item=o["item"],
            task=o["task"],
            content=o["content"],
            display_order=o["display_order"],
            rubric_version=o["rubric_version"],
            expires_at=o["expires_at"],
            raw=o,
        )


@dataclass
class NextTask:
    """The reply of `next`: a task, or none with the reason."""

    task: Optional[Task]
    resumed: bool
    message: Optional[str]
    reason: Optional[Dict[str, Any]]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "NextTask":
        t = o.get("task")
        return cls(
            task=Task.from_json(t) if t else None,
            resumed=o.get("resumed", False),
            message=o.get("message"),
            reason=o.get("reason"),
            raw=o,
        )


@dataclass
class Submitted:
    judgment: int
    resubmitted: bool
    priority_inversion: bool
    time_ms: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "Submitted":
        return cls(
            judgment=o["judgment"],
            resubmitted=o["resubmitted"],
            priority_inversion=o["priority_inversion"],
            time_ms=o["time_ms"],
            raw=o,
        )


@dataclass
class AdjudicationCase:
    item_id: int
    item: str
    task: str
    body: str
    judgments: List[Dict[str, Any]]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "AdjudicationCase":
        return cls(
            item_id=o["item_id"],
            item=o["item"],
            task=o["task"],
            body=o["body"],
            judgments=o["judgments"],
            raw=o,
        )


@dataclass
class Decision:
    id: int
    item: str
    gold: Any = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "Decision":
        return cls(id=o["id"], item=o["item"], gold=o.get("gold"), raw=o)


@dataclass
class Release:
    """A recorded release; `location` is its directory on the server."""

    id: int
    manifest_sha256: str
    kind: str
    format: str
    location: str
    filters: Dict[str, Any]
    counts: Dict[str, Any]
    created_at: int
    created_by: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "Release":
        def obj(v: Any) -> Dict[str, Any]:
            return json.loads(v) if isinstance(v, str) else (v or {})

        return cls(
            id=o["id"],
            manifest_sha256=o["manifest_sha256"],
            kind=o["kind"],
            format=o["format"],
            location=o["location"],
            filters=obj(o.get("filters")),
            counts=obj(o.get("counts")),
            created_at=o["created_at"],
            created_by=o.get("created_by"),
            raw=o,
        )


@dataclass
class AnnotatorProgress:
    user: int
    name: str
    judgments: int
    leased: int
    skipped: int
    expired: int
    gold_correct: int
    gold_scored: int
    priority_inversions: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "AnnotatorProgress":
        names = ("user", "name", "judgments", "leased", "skipped", "expired", "gold_correct",
                 "gold_scored", "priority_inversions")
        return cls(**{n: o[n] for n in names}, raw=o)


@dataclass
class Progress:
    """A project's progress. A reviewer, lead or admin sees the whole project
    (`whole` true: item counts by state, every annotator); anyone else the number of
    items and their own figures (`whole` false: the other fields are None, see `raw`)."""

    whole: bool
    items: Dict[str, int]
    annotators: List[Any]
    gold_items: Optional[int] = None
    judgments: Optional[int] = None
    leases: Optional[int] = None
    priority_inversions: Optional[int] = None
    adjudications: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "Progress":
        whole = "judgments" in o
        return cls(
            whole=whole,
            items=o["items"],
            annotators=[AnnotatorProgress.from_json(a) for a in o["annotators"]] if whole else o["annotators"],
            gold_items=o.get("gold_items"),
            judgments=o.get("judgments"),
            leases=o.get("leases"),
            priority_inversions=o.get("priority_inversions"),
            adjudications=o.get("adjudications"),
            raw=o,
        )


@dataclass
class QualityReport:
    """The quality table: per annotator (by name) reliability, gold accuracy, bias flags and
    probation, with the thresholds they were judged by."""

    project: str
    min_gold_accuracy: float
    credible_level: float
    bias_flag_p: float
    length_threshold: int
    experts: Dict[str, Any]
    annotators: List[Dict[str, Any]]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, o: Dict[str, Any]) -> "QualityReport":
        names = ("project", "min_gold_accuracy", "credible_level", "bias_flag_p", "length_threshold",
                 "experts", "annotators")
        return cls(**{n: o[n] for n in names}, raw=o)
