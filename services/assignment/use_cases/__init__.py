"""The assignment service's use cases, one plain function each, over an `AssignmentStore`:
they validate the request, decide access (`access.py`), apply the pure rules (`domain.py`),
call the store, and turn its outcomes into problems. The nameko service and the county import
only call them, so each runs in a unit test without a broker."""
