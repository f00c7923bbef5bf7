"""`python -m quickconnect.insights refresh|rebuild`: index the tracker store now.

`refresh` reads the events added since the last run (what every lead page does first);
`rebuild` forgets the summaries and reads the whole tracker store again, after a change to
how flows and steps are recognised (quickconnect/insights/flows.py). Inbox labels survive.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from quickconnect.db.session import unit_of_work
from quickconnect.insights import indexer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quickconnect.insights")
    parser.add_argument("command", choices=("refresh", "rebuild"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with unit_of_work() as session:
        run = indexer.rebuild if args.command == "rebuild" else indexer.refresh
        count = run(session)
    print(
        f"{args.command}: {count} conversation(s) indexed in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
