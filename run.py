"""Entry point: ``app = create_app()`` for WSGI servers; ``python run.py`` serves locally."""

from app import create_app
from app.logs import QuietRequestHandler

app = create_app()

if __name__ == "__main__":
    # A local deployment: threaded, no debugger, no reloader (``make dev`` adds those).
    # The app writes each request's access line itself (JSON, no query string).
    app.run(host=app.config["HOST"], port=app.config["PORT"], debug=False, use_reloader=False,
            threaded=True, request_handler=QuietRequestHandler)
