"""`make bench`: the full path (department commits → township notified) measured beside a bare
nameko baseline over the same hops, in the same run, reported as a ratio.

    python -m bench.run [--short] [--duration S] [--clients N] ...   (see --help)

Modules: config (flags and environment), infra (vhosts, Redis db, broker accounts, machine
facts, CPU accounting), real (the system as `make run` starts it, set up for the load), baseline
(the bare services' processes) and bare_services (the services themselves), sink (the townships'
end: an AMQP queue per township and a webhook receiver, in a process of its own), load (closed-
and open-loop department clients), profile (py-spy, when it is installed), report (statistics,
the table, results.json, latency.png).
"""
