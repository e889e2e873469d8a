"""Entry point for workers: ``celery -A expo.celery_app worker`` (``expo worker`` does the same)."""
from . import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
