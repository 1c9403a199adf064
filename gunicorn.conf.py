"""gunicorn settings for `make serve` (see the README's deployment section)."""

# The Makefile passes --bind from HOST and PORT.
# gevent holds many long-lived streams per worker; WEB_CONCURRENCY is read by gunicorn itself.
worker_class = "gevent"
worker_connections = 1000
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
