"""gunicorn settings for `make serve` (see the README's deployment section)."""

# The Makefile passes --bind from HOST and PORT.
# gevent holds many long-lived streams per worker; WEB_CONCURRENCY is read by gunicorn itself.
worker_class = "gevent"
worker_connections = 1000
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# %(U)s is the path without the query string: a key sent as ?api_key=... (refused by the API)
# must not land in the access log. (gunicorn's default uses %(r)s, the full request line.)
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'
