"""Business functions the action server calls, one per thing a guide asks an agent to do.

Each takes a Session first, never commits (the caller's `unit_of_work` does), and returns
small frozen dataclasses rather than ORM objects.
"""
