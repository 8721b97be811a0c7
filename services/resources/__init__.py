"""Department resource pools and the commitments that reserve from them."""
