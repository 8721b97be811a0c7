"""Every township's feed (上下联动): what happens in its villages, on every channel it uses.

`domain.py` pure rules (with `signing.py`, `titles.py`, `targets.py`), `access.py` who may do
what, `use_cases/` one function per use case, `store.py` with `lua/` the atomic store,
`dispatcher.py` the loop that sends webhooks, `service.py` the nameko entrypoints that call
them."""
