"""Code that runs inside the Rasa server process.

The project's own Rasa components live here: the input channels (`channels`, `webchat`), the
tracker and lock stores (`stores`), the intent blend (`classifiers`), policies and selectors,
input checks (`guards`) and the reply guard (`reply_guard`: every bot message checked for
internal values before it is logged and sent). Replacements of Rasa internals made for speed
are in `speedups/`, one registry that installs them all (`QC_SPEEDUPS=0` turns them off).
Two fixes of Rasa's behaviour under faults are installed whatever the switch says:
`action_failures` ends a turn whose custom action failed (listening, so the conversation goes
on) and bounds each action-server call; `stores.install_strict_tracker_store` makes a tracker
store failure fail the turn (the channel apologises) instead of starting the conversation over.

Rasa imports this package at start-up for the tracker and lock stores (endpoints.yml) and the
web chat channel (credentials.yml), before it loads the model, so importing it installs all
of them in every server process of the project.
"""

from rasa_extensions import action_failures, reply_guard, speedups, stores

speedups.install_all()
action_failures.install()
stores.install_strict_tracker_store()
reply_guard.install()
