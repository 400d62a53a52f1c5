"""The published bundle as the site reads it: loaded once per version into memory, indexed for
the pages and the API, and never changed (peelkit.publish writes it; the pointer chooses it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from peelkit import publish


@dataclass
class Bundle:
    """One published bundle: its files, read on first use."""

    folder: Path
    manifest: dict[str, Any]
    _json: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    def read(self, name: str) -> Any:
        if name not in self._json:
            self._json[name] = json.loads((self.folder / name).read_text(encoding="utf-8"))
        return self._json[name]

    @cached_property
    def forces(self) -> list[dict[str, Any]]:
        return list(self.read("forces.json"))

    @cached_property
    def force_by_code(self) -> dict[str, dict[str, Any]]:
        return {f["code"]: f for f in self.forces}

    @cached_property
    def force_by_slug(self) -> dict[str, dict[str, Any]]:
        return {f["slug"]: f for f in self.forces}

    @cached_property
    def catalogue(self) -> list[dict[str, Any]]:
        return list(self.read("catalogue.json"))

    @cached_property
    def indicator_by_id(self) -> dict[str, dict[str, Any]]:
        return {i["id"]: i for i in self.catalogue}

    @property
    def cycles(self) -> list[dict[str, Any]]:
        return list(self.manifest["cycles"])

    @property
    def latest_cycle(self) -> int:
        return int(self.cycles[-1]["cycle"])

    @property
    def periods(self) -> list[dict[str, Any]]:
        """Every published period: inspection cycles and data profiles, each with its key."""
        return list(self.manifest["periods"])

    def records(self, period: str | int) -> list[dict[str, Any]]:
        """The records of a period, by its key ("2016", "2018-03-31") or its cycle."""
        return list(self.read(f"records/{period}.json"))

    def grades(self, cycle: str | int) -> dict[str, Any]:
        return dict(self.read(f"grades/{cycle}.json"))

    @cached_property
    def corrections(self) -> list[dict[str, Any]]:
        """The public correction notices released with this bundle (by the workbench)."""
        if not (self.folder / "corrections.json").is_file():
            return []
        return list(self.read("corrections.json"))

    @cached_property
    def coverage(self) -> dict[str, Any]:
        return dict(self.read("coverage.json"))

    def file(self, *parts: str) -> Path | None:
        """A file of the bundle by its path parts; None when it is not there (or the parts try
        to leave the bundle)."""
        path = self.folder.joinpath(*parts).resolve()
        if not path.is_relative_to(self.folder.resolve()) or not path.is_file():
            return None
        return path


#: What the workbench's releases say now: the bundle due (None: none yet) and when that next
#: changes (None: no release pending).
Releases = Callable[[], tuple[str | None, datetime | None]]


class Published:
    """The bundle the site serves: the latest release due when the site has a workbench
    (``releases``), else the one the site's pointer file names; re-read when either changes."""

    def __init__(self, site: Path, releases: Releases | None = None) -> None:
        self.site = site
        self.releases = releases
        self._lock = threading.Lock()
        self._bundle: Bundle | None = None
        self._pointer: tuple[int, int] | None = None
        self._released: Bundle | None = None
        #: when what is served next changes (a release pending), for caches' max-age
        self.next_switch: datetime | None = None

    def current(self) -> Bundle | None:
        if self.releases is not None:
            due, self.next_switch = self.releases()
            if due is not None:
                with self._lock:
                    if self._released is None or self._released.version != due:
                        folder = self.site / publish.BUNDLES / due
                        manifest = json.loads(
                            (folder / "manifest.json").read_text(encoding="utf-8")
                        )
                        self._released = Bundle(folder, manifest)
                    return self._released
        return self._pointed()

    def _pointed(self) -> Bundle | None:
        pointer = self.site / publish.POINTER
        try:
            stat = pointer.stat()
        except FileNotFoundError:
            return None
        seen = (stat.st_mtime_ns, stat.st_ino)
        with self._lock:
            if self._bundle is None or seen != self._pointer:
                folder = publish.current(self.site)
                if folder is None:
                    return None
                manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
                self._bundle, self._pointer = Bundle(folder, manifest), seen
            return self._bundle


class HighlightedCharts:
    """The report's ranked chart of an indicator with one force highlighted, drawn from the
    bundle's records on first request and kept on disk beside the bundles (by version, so a
    new publication never shows an old chart). Drawing is not computing: the bars are the
    published values. matplotlib is imported on first use, and one chart is drawn at a time
    (pyplot is not thread-safe)."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self._lock = threading.Lock()

    def highlighted(self, bundle: Bundle, period: str, indicator: str, force: str) -> bytes:
        path = self.site / "chart-cache" / bundle.version / period / indicator / f"{force}.svg"
        if path.is_file():
            return path.read_bytes()
        with self._lock:
            if not path.is_file():
                from types import SimpleNamespace
                from typing import cast

                from peelkit.indicators.engine import BenchmarkRecord
                from peelkit.report.build import ranked_chart
                from peelkit.report.charts import svg

                rows = [
                    cast(BenchmarkRecord, SimpleNamespace(**r))
                    for r in bundle.records(period)
                    if r["indicator_id"] == indicator
                ]
                chart = ranked_chart(rows, indicator, force)
                if chart is None:
                    raise FileNotFoundError(indicator)
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_suffix(f".{threading.get_ident()}.tmp")
                temporary.write_text(svg(chart, force), encoding="utf-8")
                temporary.replace(path)
        return path.read_bytes()
