"""gunicorn's settings for `make serve` (`gunicorn -c python:bot.gunicorn_settings`): the server
side of a deployment that the app itself cannot set."""

import gunicorn.http.wsgi

# The `Server:` header names the service, not the server software it runs on (the first thing a
# prober asks); gunicorn reads this module global for every response.
gunicorn.http.wsgi.SERVER = "intake"
