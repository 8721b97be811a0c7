"""The notifications service's use cases, plain functions over the store (`store.py`) and what
else they need (a directory lookup, the secrets box, an HTTP sender), each passed in:

- `feed.py`: an event becomes its township's notification, with its AMQP message and one
  delivery per interested webhook; the directory the titles name villages from.
- `inbox.py`: reading a township's inbox (the live stream reads it too) and signing for a
  notification (签收).
- `webhooks.py`: a township's webhooks, made (idempotently), listed and removed.
- `deliveries.py`: a webhook's deliveries, a manual retry, and one attempt of the dispatcher.
- `operators.py`: the operators' view of every feed.
- `shared.py`: what they share: whose feed a caller reads or changes.

This layer is the one that turns the store's outcomes into problems (HTTP answers). Every use
case on a township's feed first asks `access.py` whether the caller may read or change it.
"""
