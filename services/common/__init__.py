"""Mechanisms every Guabang service stands on: configuration, the event contract,
the outbox and its relay, reliable consumers, and the broker topology."""
