"""The programme itself: the directory of townships, villages and departments, cadres,
assignments, work logs, the problems ledger and unannounced inspections.

`domain.py` pure rules, `access.py` who may do what, `use_cases/` one function per use case,
`store.py` with `lua/` the atomic store, `service.py` the nameko entrypoints that call them."""
