"""Code that runs inside the Rasa server process: the input channel and the lock store.

Importing this package also installs `action_schema` (action-server responses validated by a
validator compiled once), `endpoints` (HTTP sessions kept between calls), `graph_runner` (the
model's graph run in an order worked out once, without Dask), `nlu_worker` (messages parsed
in a worker thread, off the event loop), `tf_inference` (the models' TensorFlow graphs
called directly) and `slot_copy` (slots copied without the generic copy protocol): Rasa
imports it at start-up for the tracker and lock stores (endpoints.yml) and the web chat
channel (credentials.yml), before it loads the model, so every server process of the project
runs with all six. `action_failures` ends a turn whose custom action failed (listening, so
the conversation goes on) and bounds each action-server call;
`stores.install_strict_tracker_store` makes a tracker store failure fail the turn (the
channel apologises) instead of starting the conversation over.
"""

from rasa_extensions import (
    action_failures,
    action_schema,
    endpoints,
    graph_runner,
    nlu_worker,
    slot_copy,
    stores,
    tf_inference,
)

action_schema.install()
action_failures.install()
endpoints.install()
graph_runner.install()
nlu_worker.install()
tf_inference.install()
slot_copy.install()
stores.install_strict_tracker_store()
