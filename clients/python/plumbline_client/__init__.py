"""Python client for Plumbline's HTTP API (`/api/v1`), standard library only.

    from plumbline_client import Client, load_release
    c = Client("http://127.0.0.1:8080", token="plb_…")
    task = c.next_task("bank")
"""

from .client import ApiError, Client
from .models import (
    AdjudicationCase,
    Decision,
    ImportReport,
    AnnotatorProgress,
    NextTask,
    Progress,
    Project,
    QualityReport,
    Release,
    Submitted,
    Task,
    User,
)
from .release import load_release

__all__ = [
    "AdjudicationCase",
    "ApiError",
    "Client",
    "Decision",
    "ImportReport",
    "AnnotatorProgress",
    "NextTask",
    "Progress",
    "Project",
    "QualityReport",
    "Release",
    "Submitted",
    "Task",
    "User",
    "load_release",
]
