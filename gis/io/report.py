"""The reports of an import (problems found in the file, what was written) and the
error that carries the report when the file is rejected."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from gis.errors import InvalidGeometry, InvalidInput

__all__ = [
    "ImportRejected",
    "ImportReport",
    "Problem",
    "RejectedGeometry",
    "ValidationReport",
    "reject",
]

SHOWN = 5  # error lines in an exception's message


class Problem(BaseModel):
    """One problem of one feature (``feature`` is its 0-based index in the file)."""

    severity: Literal["error", "warning"]
    check: str
    feature: int | None = None
    code: str | None = None
    message: str
    location: tuple[float, float] | None = None

    def describe(self, file: str) -> str:
        who = "" if self.feature is None else f" feature {self.feature}"
        code = f" (code {self.code})" if self.code else ""
        return f"{file}:{who}{code}: {self.message}"


class ValidationReport(BaseModel):
    """Everything wrong with a file, before anything is written."""

    file: str
    target: str
    format: str = ""
    crs: str = "EPSG:4326"
    features: int
    repaired: int = 0
    problems: list[Problem] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)

    def lines(self, severity: str | None = None) -> list[str]:
        return [
            p.describe(self.file)
            for p in self.problems
            if severity is None or p.severity == severity
        ]


class ImportReport(BaseModel):
    """The validation report and what the import did (or would do, on a dry run)."""

    validation: ValidationReport
    dry_run: bool = False
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: int = 0  # rows written to the ``change`` audit table
    seconds: float = 0.0


class ImportRejected(InvalidInput):
    """The file has error-severity problems; ``report`` lists them all."""

    def __init__(self, message: str, report: ValidationReport) -> None:
        super().__init__(message)
        self.report = report


class RejectedGeometry(InvalidGeometry, ImportRejected):
    """Rejected for invalid, empty or wrongly typed geometries."""


def reject(report: ValidationReport) -> ImportRejected:
    lines = report.lines("error")
    more = f"\n… and {len(lines) - SHOWN} more errors" if len(lines) > SHOWN else ""
    message = (
        f"{report.file}: {report.errors} errors, nothing imported:\n"
        + "\n".join(lines[:SHOWN])
        + more
    )
    geometric = any(
        p.check in ("geometry", "type") for p in report.problems if p.severity == "error"
    )
    cls = RejectedGeometry if geometric else ImportRejected
    return cls(message, report)
