"""Code that runs inside the Rasa server process.

The project's own Rasa components live here: the input channels (`channels`, `webchat`), the
tracker and lock stores (`stores`), the intent blend (`classifiers`), policies and selectors,
input checks (`guards`) and the reply guard (`reply_guard`: every bot message checked for
internal values before it is logged and sent). Replacements of Rasa internals made for speed
are in `speedups/`, one registry that installs them all (`QC_SPEEDUPS=0` turns them off).

Rasa imports this package at start-up for the tracker and lock stores (endpoints.yml) and the
web chat channel (credentials.yml), before it loads the model, so importing it installs the
speed-ups and the reply guard in every server process of the project.
"""

from rasa_extensions import reply_guard, speedups

speedups.install_all()
reply_guard.install()
