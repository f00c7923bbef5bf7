"""The action server: thin Rasa SDK handlers, one module per flow.

Handlers read slots, call one business function in `quickconnect.services`, and turn the
result into events and messages. Business rules and SQL never live here.
"""
