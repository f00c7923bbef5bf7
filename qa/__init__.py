"""Quality tooling that runs the real assistant: conversation tests, NLU evaluation, benchmark.

- `python -m qa.conversations`: live conversation tests (`tests/conversations/*.yml`) through
  the REST channel of a real Rasa server and action server, with database checks.
- `python -m qa.nlu_eval`: intent precision/recall/F1 of the trained model on test-only data.
- `python -m qa.bench`: concurrent simulated customers, latency, throughput and memory.
"""
