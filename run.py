"""Entry point: ``app = create_app()`` for WSGI servers; ``python run.py`` serves locally."""

from app import create_app

app = create_app()

if __name__ == "__main__":
    # A local deployment: threaded, no debugger, no reloader (``make dev`` adds those).
    app.run(host=app.config["HOST"], port=app.config["PORT"], debug=False, use_reloader=False,
            threaded=True)
