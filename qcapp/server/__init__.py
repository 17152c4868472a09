"""How qcapp is served: gunicorn's worker class, what the arbiter asks of the app before its
first worker starts, and how blocking work stays off a worker's event loop."""
