"""``make bench``: the portal's performance benchmark, one command (``python -m bench.run``).

Serves the portal with gunicorn on PostgreSQL with the scale data, loads each page with wrk on
loopback, measures the CSV import, certificate issuing and the credit audit in the process, and
prints and stores every figure (var/bench/latest.json) so runs can be compared.
"""
