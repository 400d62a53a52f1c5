"""Source files as peelkit sees them: plain files, or members of a zip archive.

``discover`` turns the paths a user gives (files, folders, zips, in any mix) into
:class:`SourceFile` objects, each able to open its bytes, so readers never care whether a file
sits on disk or inside an archive. Zip members are read straight from the archive, never
unpacked to disk.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from peelkit.errors import UnreadableFile

SUFFIXES = (".csv", ".ods", ".xls", ".xlsx", ".zip")


@dataclass(frozen=True)
class SourceFile:
    """One file to load: a file on disk, or one member of a zip archive."""

    path: Path
    member: str | None = None
    size: int = 0
    _zip: zipfile.ZipFile | None = field(default=None, compare=False, repr=False)

    @property
    def display(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def name(self) -> str:
        return Path(self.member).name if self.member else self.path.name

    def open(self) -> IO[bytes]:
        """The file's bytes. Read them inside ``reading()``: a zip member's damage (a bad
        CRC-32, invalid compressed data) shows only as it is read."""
        try:
            if self.member is not None and self._zip is not None:
                return self._zip.open(self.member)
            return self.path.open("rb")
        except (zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
            raise self._damaged(exc) from exc
        except OSError as exc:
            raise UnreadableFile(f"Cannot read {self.display}: {exc}", path=self.display) from exc

    @contextmanager
    def reading(self) -> Iterator[IO[bytes]]:
        """``open()``, with what goes wrong while reading turned into UnreadableFile naming the
        file (and the archive and member)."""
        try:
            with self.open() as fh:
                yield fh
        except (zlib.error, zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
            raise self._damaged(exc) from exc
        except OSError as exc:
            raise UnreadableFile(f"Cannot read {self.display}: {exc}", path=self.display) from exc

    def _damaged(self, exc: BaseException) -> UnreadableFile:
        """A zip member that cannot be read back: what is wrong, and to download it again."""
        text = str(exc)
        if "CRC" in text:
            what = "bad CRC-32: its bytes are not the ones the archive recorded"
        elif isinstance(exc, zlib.error):
            what = f"invalid compressed data: {text}"
        elif isinstance(exc, EOFError):
            what = "its compressed data ends early"
        elif isinstance(exc, NotImplementedError):  # a damaged header names an unknown method
            what = f"its compression method is not one zip readers know: {text}"
        else:
            what = f"the archive is damaged: {text}"
        return UnreadableFile(
            f"{self.display} is damaged inside the archive ({what}). Download the archive again.",
            path=self.display,
        )

    def head(self, size: int = 65536) -> bytes:
        with self.reading() as fh:
            return fh.read(size)

    def read_bytes(self) -> bytes:
        with self.reading() as fh:
            return fh.read()


@dataclass(frozen=True)
class Digest:
    sha256: str
    newlines: int
    ends_with_newline: bool

    @property
    def lines(self) -> int:
        return self.newlines + (0 if self.ends_with_newline else 1)


def digest(source: SourceFile, chunk: int = 1 << 22) -> Digest:
    """The file's sha256 and its line count, in one pass over the bytes."""
    h = hashlib.sha256()
    newlines = 0
    last = b""
    with source.reading() as fh:
        while block := fh.read(chunk):
            h.update(block)
            newlines += block.count(b"\n")
            last = block[-1:]
    return Digest(h.hexdigest(), newlines, last in (b"\n", b""))


def discover(paths: Iterable[Path], passed_over: list[str] | None = None) -> list[SourceFile]:
    """Every loadable file under ``paths``: files as given, folders walked, zips opened. Files
    in folders that are not data (README files, notes, .DS_Store and other hidden files) are
    left out and, when ``passed_over`` is given, named there; a file given by name is never
    left out."""
    found: list[SourceFile] = []
    try:
        _discover(paths, found, passed_over)
    except BaseException:
        close_archives(found)
        raise
    return found


def close_archives(sources: Iterable[SourceFile]) -> None:
    """Close the zip archives that ``sources`` are members of."""
    archives = {id(s._zip): s._zip for s in sources if s._zip is not None}
    for archive in archives.values():
        archive.close()


def _discover(
    paths: Iterable[Path], found: list[SourceFile], passed_over: list[str] | None
) -> None:
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UnreadableFile(
                f"{path} does not exist. Give a file, a folder or a zip archive.", path=str(path)
            )
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() in SUFFIXES and not child.name.startswith("."):
                    found.extend(_expand(child))
                elif passed_over is not None:
                    passed_over.append(str(child.relative_to(path)))
        else:
            found.extend(_expand(path))


def _expand(path: Path) -> list[SourceFile]:
    if path.suffix.lower() == ".zip":
        return _zip_members(path)
    return [SourceFile(path=path, size=path.stat().st_size)]


def _zip_members(path: Path) -> list[SourceFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(
            f"{path} is not a readable zip archive ({exc}). Download it again, or unpack it and "
            "give the folder instead.",
            path=str(path),
        ) from exc
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and Path(info.filename).suffix.lower() in (".csv", ".ods", ".xls", ".xlsx")
        and not Path(info.filename).name.startswith(".")
        and "__MACOSX" not in info.filename
    ]
    return [
        SourceFile(path=path, member=info.filename, size=info.file_size, _zip=archive)
        for info in sorted(members, key=lambda i: i.filename)
    ]
