"""The use cases: start, fire, answer, sweep, digest, load an organisation, the views.

Each owns its transaction and knows every port: it asks the pure engine and the flows what
happens, and writes the outcome through storage and the outbox of notifications.
"""
