"""User-caused errors: one exception type per kind, printed by the CLI as one line with exit 2."""

from __future__ import annotations


class ShareguardError(Exception):
    """Base of every error a user can cause (bad input, bad config). A traceback means a bug."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def one_line(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.line}" if self.line else "") + ": "
        return f"{where}{self.message}".replace("\n", " ")


class InputError(ShareguardError):
    """A path that does not exist, cannot be read, or is not what it must be."""


class CatalogError(ShareguardError):
    """A malformed duty catalog or framework file."""


class WaiverError(ShareguardError):
    """A malformed waiver (ignore) file."""


class ConfigError(ShareguardError):
    """A malformed shareguard configuration file or option."""


class UnknownIdError(ShareguardError):
    """An unknown control id, service, rule or format."""


class ParseError(ShareguardError):
    """A scanned file that cannot be parsed (reported per file; never stops a whole scan)."""


class BudgetExceeded(ParseError):
    """Input exceeded a size, depth, time or count budget (bombs, huge entries)."""


class HostileInputError(ShareguardError):
    """Input that tries to escape (path traversal, link loops) or otherwise attack the scanner."""


class DatabaseError(ShareguardError):
    """The vulnerability database is missing, corrupt or cannot be updated."""


class RegistryError(ShareguardError):
    """A container registry answered with an error or garbage."""
