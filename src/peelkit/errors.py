"""The exceptions peelkit raises on purpose.

Every error a user can cause is one of these, and each says what happened, where (file, line,
field), what was expected and what to do next::

    PeelkitError
    ├── ReferenceDataError       the packaged reference data is inconsistent (a peelkit bug)
    ├── InputError               a source file cannot be loaded as it is
    │   ├── UnreadableFile       missing, not a file, not UTF-8, a broken zip or spreadsheet
    │   ├── UnknownFormat        the header matches no known source format
    │   ├── UnknownForce         a force name that is in no alias list
    │   ├── MissingContext       the file does not say which force or month it covers
    │   ├── RejectedRows         rows were rejected and --strict was given
    │   └── InvalidJudgments     an inspectors' judgments file breaks its format
    ├── WarehouseError           the warehouse cannot be opened or written, or is not a peelkit
    │                            warehouse (busy, a full disk, read-only, another program's file)
    └── QueryError               the SQL of a read-only query is refused or fails (the database's
                                 message)

A failed load raises before its transaction commits, so the warehouse is left exactly as it was.
"""

from __future__ import annotations


class PeelkitError(Exception):
    """Base class of every error peelkit raises on purpose."""


class ReferenceDataError(PeelkitError):
    """The reference data shipped with peelkit is inconsistent."""


class InputError(PeelkitError):
    """A source file cannot be loaded as it is."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class UnreadableFile(InputError):
    """The file is missing, unreadable, or not in the encoding or container it claims."""


class UnknownFormat(InputError):
    """The file's header matches none of the source formats peelkit reads."""


class UnknownForce(InputError):
    """A force name in a file is not a known name of any force or non-territorial body."""

    def __init__(
        self, message: str, *, path: str, name: str, line: int | None, closest: list[str]
    ) -> None:
        super().__init__(message, path=path)
        self.name = name
        self.line = line
        self.closest = closest


class MissingContext(InputError):
    """The file does not say which force or month it covers (e.g. a renamed file)."""


class DamagedFile(InputError):
    """A file looks damaged (cut short, or holding rows of another month than it says), and
    damaged files were not accepted, so nothing was loaded."""


class RejectedRows(InputError):
    """Rows were rejected and the load was strict, so nothing was loaded."""


class WarehouseError(PeelkitError):
    """The warehouse cannot be opened or written, or is not a peelkit warehouse."""


class QueryError(PeelkitError):
    """The SQL given to a read-only query is refused or fails; the message is the database's."""


class InvalidJudgments(InputError):
    """An inspectors' judgments file is not valid: each problem names the key and the fix."""

    def __init__(self, message: str, *, path: str, problems: list[str]) -> None:
        super().__init__(message, path=path)
        self.problems = problems
