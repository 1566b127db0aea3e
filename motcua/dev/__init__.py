"""Development and demonstration tools, never imported by the pipeline's production
path: the deterministic sample export bundle (:mod:`motcua.dev.sample`, ``motcua
sample``, ``make run``) and the one-stop system's API simulator
(:mod:`motcua.dev.simulator`, ``motcua serve``, the HTTP source's tests)."""
