"""Development and demonstration tools, never imported by the pipeline's production
path: the deterministic sample export bundle (:mod:`motcua.dev.sample`, ``motcua
sample``, ``make run``), the one-stop system's API simulator
(:mod:`motcua.dev.simulator`, ``motcua serve``, the HTTP source's tests) and the loader
that fills a one-stop system's database from a bundle
(:mod:`motcua.dev.database_loader`, the database source's tests and benchmarks)."""
