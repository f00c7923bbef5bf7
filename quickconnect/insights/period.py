"""The period an overview covers: whole UTC days, the end day included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

MAX_DAYS = 400


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive
    end: datetime  # exclusive

    @classmethod
    def days(cls, first: date, last: date) -> Period:
        if last < first:
            raise ValueError("the period ends before it starts")
        if (last - first).days > MAX_DAYS:
            raise ValueError(f"a period is at most {MAX_DAYS} days")
        return cls(
            datetime.combine(first, time(), tzinfo=UTC),
            datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC),
        )

    @classmethod
    def parse(cls, first: str | None, last: str | None, *, default_days: int = 30) -> Period:
        """From ISO dates (the pages' date inputs); the last `default_days` days by default."""
        today = datetime.now(UTC).date()
        try:
            end = date.fromisoformat(last) if last else today
            start = date.fromisoformat(first) if first else end - timedelta(days=default_days - 1)
        except ValueError as error:
            raise ValueError("dates are YYYY-MM-DD") from error
        return cls.days(start, end)

    def as_json(self) -> dict[str, str]:
        return {
            "from": self.start.date().isoformat(),
            "to": (self.end - timedelta(days=1)).date().isoformat(),
        }
