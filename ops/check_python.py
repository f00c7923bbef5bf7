"""Stop early, with a clear message, on a Python other than 3.11 (Rasa 3.6 here needs 3.11)."""

import sys

SUPPORTED = (3, 11)

if sys.version_info[:2] != SUPPORTED:
    found = ".".join(map(str, sys.version_info[:3]))
    sys.exit(
        f"QuickConnect needs Python {SUPPORTED[0]}.{SUPPORTED[1]} (found {found} at "
        f"{sys.executable}). Install Python 3.11, or point make at it: "
        f"make PYTHON=/path/to/python3.11 ..."
    )
