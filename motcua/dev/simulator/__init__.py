"""The one-stop system simulator (``motcua serve``, tests): an export bundle served
through the system's HTTP API, with faults on demand. :mod:`~motcua.dev.simulator.server`
is the server and its request handler, :mod:`~motcua.dev.simulator.snapshots` the
snapshots served and the ones added while a client pages."""
