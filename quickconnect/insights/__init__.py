"""Insights for the support lead (issue #31): no Rasa imports.

`indexer` keeps per-conversation summaries built from the tracker store's events and this
database's cases and changes; `report` computes the overview, the flow funnels and the
conversation list from them; `review` shows a transcript with intents and confidences and
keeps tags; `exports` writes CSV and logs each export; `privacy` masks contact details.
Flows and their steps are declared in `flows`.
"""
