"""Reading a release directory back."""

from __future__ import annotations

import os
from typing import Any


def load_release(path: "os.PathLike[str] | str") -> Any:
    """Loads a release directory (JSONL or Parquet) as a `datasets.DatasetDict`.

    The directory's `README.md` is a dataset card naming the data file and its features,
    so this is `datasets.load_dataset(path)` after checking that `path` is a release."""
    path = os.fspath(path)
    if not os.path.isfile(os.path.join(path, "MANIFEST.json")):
        raise ValueError(f"{path} is not a Plumbline release (no MANIFEST.json)")
    try:
        import datasets
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("load_release needs `datasets`: pip install 'plumbline-client[datasets]'") from e
    return datasets.load_dataset(path)
