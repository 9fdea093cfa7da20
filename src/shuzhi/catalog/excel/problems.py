"""The compile template: problems found in a file, listed with their cells."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from shuzhi.catalog.excel.common import MAX_PROBLEMS, MAX_WARNINGS


class ImportProblem(BaseModel):
    """One problem in a file: where Excel shows it and why, in both languages."""

    sheet: str | None = None
    row: int | None = Field(default=None, description="row number as Excel shows it")
    column: str | None = Field(default=None, description="the column header")
    message_zh: str
    message_en: str


@dataclass
class ProblemLog:
    """Collects errors and warnings; keeps the first ``MAX_PROBLEMS`` and counts the rest."""

    errors: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    # cells with an error (kept while the report is not full)
    cells: set[tuple[str | None, int | None, str | None]] = field(default_factory=set)

    def error(
        self, sheet: str | None, row: int | None, column: str | None, zh: str, en: str
    ) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_PROBLEMS:
            self.cells.add((sheet, row, column))
            self.errors.append(
                ImportProblem(sheet=sheet, row=row, column=column, message_zh=zh, message_en=en)
            )

    def warn(
        self, sheet: str | None, row: int | None, column: str | None, zh: str, en: str
    ) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(
                ImportProblem(sheet=sheet, row=row, column=column, message_zh=zh, message_en=en)
            )

    @property
    def failed(self) -> bool:
        return self.error_count > 0

    @property
    def full(self) -> bool:
        """The report holds as many errors as it will show; later ones are only counted."""
        return self.error_count >= MAX_PROBLEMS
