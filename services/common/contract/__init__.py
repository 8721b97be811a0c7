"""The public contract (CONTRACT.md) as code: codes, events, HTTP bodies, problems, paging,
principals. Pure Python; every service and outside client speaks it."""
