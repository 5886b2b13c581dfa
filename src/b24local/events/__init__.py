"""Events: who hears about a change, and how it reaches them.

A change raises an event with :func:`raising.raise_event` inside the transaction
that makes it; the event becomes deliveries in the outbox (online handlers) and
rows of the offline queues (offline handlers), which commit or roll back with the
change. Deliveries are sent after the commit.
"""
