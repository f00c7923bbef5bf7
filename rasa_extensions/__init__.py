"""Code that runs inside the Rasa server process: the input channel and the lock store.

Importing this package also installs `action_schema` (action-server responses validated by a
validator compiled once) and `endpoints` (HTTP sessions kept between calls): Rasa imports it at
start-up for the lock store (endpoints.yml) and the web chat channel (credentials.yml), so every
server process of the project runs with both.
"""

from rasa_extensions import action_schema, endpoints

action_schema.install()
endpoints.install()
