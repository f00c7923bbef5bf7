"""The NLU inbox from the command line (issue #31).

    python -m qa.inbox list [--status new|accepted|dismissed|held_out|all]
    python -m qa.inbox export [--out data/nlu/inbox.yml] [--actor NAME]

`export` writes every line the support lead accepted in the console as one Rasa NLU YAML
file (the same file as the lead page's export), refusing any line of tests/nlu or
../shared/eval (quickconnect/insights/inbox.py), and logs the export in `export_log`. Then
`rasa data validate` and `make train` take it like any other file of data/nlu/.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from quickconnect.config import PROJECT_ROOT
from quickconnect.db.session import unit_of_work
from quickconnect.insights import inbox as service
from quickconnect.insights import indexer

DEFAULT_OUT = PROJECT_ROOT / "data" / "nlu" / "inbox.yml"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.inbox")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="show inbox lines")
    listing.add_argument("--status", default="new")
    out = sub.add_parser("export", help="write the accepted lines as Rasa NLU YAML")
    out.add_argument("--out", type=Path, default=DEFAULT_OUT, help="file, or - for stdout")
    out.add_argument("--actor", default=None, help="who exports (default: your login name)")
    args = parser.parse_args(argv)
    if args.command == "list":
        with unit_of_work() as session:
            indexer.refresh(session)  # the latest fallbacks first
            found = service.items(session, None if args.status == "all" else args.status, 1000)
        for item in found["items"]:
            confidence = "-" if item["confidence"] is None else f"{item['confidence']:.2f}"
            print(
                f"{item['id']:>6}  {item['status']:<9} {item['reason']:<15} "
                f"{item['predicted_intent'] or '-':<24} {confidence:>5}  "
                f"{item['label_intent'] or '':<24} {item['text']}"
            )
        print(f"{found['total']} line(s)")
        return 0
    actor = "cli:" + (args.actor or getpass.getuser())
    with unit_of_work() as session:
        result = service.export(session, actor=actor, agent_id=None)
    if str(args.out) == "-":
        sys.stdout.write(result.text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(result.text, encoding="utf-8")
    print(
        f"exported {result.exported} line(s) {result.by_intent} to {args.out}; refused "
        f"{result.held_out} in a test or evaluation set, skipped {result.already_trained} "
        f"already in data/ and {result.with_contact} with contact details",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
