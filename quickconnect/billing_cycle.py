"""Billing-cycle dates. Cycle days are 1-28, so every month has one."""

from __future__ import annotations

from datetime import date


def add_months(day: date, months: int) -> date:
    """Same day of month, `months` later (or earlier); the day must exist in every month."""
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def cycle_start(on: date, cycle_day: int) -> date:
    """First day of the billing period that contains `on`."""
    if not 1 <= cycle_day <= 28:
        raise ValueError(f"billing cycle day must be 1-28, got {cycle_day}")
    start = on.replace(day=cycle_day)
    return start if on.day >= cycle_day else add_months(start, -1)


def next_cycle_start(on: date, cycle_day: int) -> date:
    """When the next billing period starts (the next bill date)."""
    return add_months(cycle_start(on, cycle_day), 1)
