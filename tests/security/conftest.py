"""Security tests over plain HTTP and WebSockets against the real stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.stack import Stack
from tests.webstack import shared_web_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def web_stack() -> Iterator[Stack]:
    with shared_web_stack() as stack:
        yield stack
