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
    ├── QueryError               the SQL of a read-only query is refused or fails (the database's
    │                            message)
    └── WorkbenchError           the inspection workbench refuses a request
        ├── NotFound             no such thing, or not in the actor's scope (never says which)
        ├── Forbidden            in the actor's scope, but their role may not do this
        ├── InvalidStep          the workflow does not allow this step from the present state
        ├── StaleVersion         a save against a version that has changed since it was read
        ├── InvalidInput         a form or file the workbench cannot accept (field by field)
        ├── SignInRefused        wrong name or password, a disabled account, or locked out
        └── BackupRefused        a backup that cannot be made, read or restored as it is

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


class WorkbenchError(PeelkitError):
    """The inspection workbench refuses a request; the message says why and what to do."""


class NotFound(WorkbenchError):
    """No such user, force or version, or one outside the actor's scope: the two are not told
    apart, so a force liaison cannot learn that another force's draft exists."""


class Forbidden(WorkbenchError):
    """The actor may see this, but their role may not do it."""


class InvalidStep(WorkbenchError):
    """The workflow does not allow this step from the present state."""


class StaleVersion(WorkbenchError):
    """A save names a version that has changed since it was read: nothing was written."""

    def __init__(self, message: str, *, expected: int, found: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.found = found


class InvalidInput(WorkbenchError):
    """A form or file the workbench cannot accept; ``problems`` maps each field to its
    problems, in the words of ``peelkit judgments check``."""

    def __init__(self, message: str, *, problems: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {}


class SignInRefused(WorkbenchError):
    """A sign-in refused: the message never says whether the name or the password was wrong."""


class BackupRefused(WorkbenchError):
    """A workbench backup that cannot be made, or a backup file that cannot be restored (damaged,
    of another schema, into a database that is not empty): nothing was written."""
