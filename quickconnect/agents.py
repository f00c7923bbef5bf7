"""Console accounts from the command line: `python -m quickconnect.agents set-role USER ROLE`.

Why a command: roles are rare, deliberate changes (a new support lead), made by whoever runs
the service, not from the console itself, so no account can raise its own rights.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from quickconnect.db.session import unit_of_work
from quickconnect.services.agent_console import set_role


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quickconnect.agents")
    sub = parser.add_subparsers(dest="command", required=True)
    role = sub.add_parser("set-role", help="make an account an agent or a support lead")
    role.add_argument("username")
    role.add_argument("role", choices=("agent", "lead"))
    args = parser.parse_args(argv)
    try:
        with unit_of_work() as session:
            set_role(session, args.username, args.role)
    except LookupError as error:
        print(error)
        return 1
    print(f"{args.username}: role {args.role}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
