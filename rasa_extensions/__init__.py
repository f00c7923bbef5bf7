"""Code that runs inside the Rasa server process: the input channel and the lock store."""
