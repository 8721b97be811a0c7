"""The resources service's use cases, one plain function each, over a `ResourcesStore` and a
directory lookup: they validate the request, decide access (`access.py`), apply the pure rules
(`domain.py`), call the store, and turn its outcomes into problems. The nameko service only
calls them, so each runs in a unit test without a broker."""
