"""Department resource pools, villages' needs, and the commitments that reserve from the one
for the other, through their lifecycle; department systems commit over AMQP too.

`domain.py` pure rules (the lifecycle table), `access.py` who may do what, `use_cases/` one
function per use case (the AMQP ingress and the event handlers' effects included), `store.py`
with `lua/` the atomic store, `service.py` the nameko entrypoints that call them."""
