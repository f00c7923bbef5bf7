"""The action server: thin Rasa SDK handlers, one module per flow.

Handlers read slots, call one business function in `quickconnect.services`, and turn the
result into events and messages. Business rules and SQL never live here.

Importing the package installs the reply guard on every action's messages
(`actions/reply_guard.py`) and records which client each action call serves
(`actions/client_context.py`): `rasa run actions --actions actions` imports it first.
"""

from actions import client_context, reply_guard

reply_guard.install()
client_context.install()
