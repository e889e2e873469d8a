"""Expo CRM: an exhibition CRM for organizers, exhibitors and visitors."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import ROOT, Config
from .extensions import babel, csrf, db, login_manager, migrate


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.from_object(Config())
    if overrides:
        app.config.update(overrides)
    app.config["INSTANCE_DIR"].mkdir(parents=True, exist_ok=True)
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        folder = app.config["CELERY"].get("broker_transport_options", {}).get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)

    from . import models  # noqa: F401  (every table registered before migrations or queries)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "UTC")
    from .core.tasks import init_celery

    init_celery(app)
    from .core import tasks as _core_tasks  # noqa: F401  (register the Celery tasks)
    from .core.views import bp as core_bp
    from .exhibitors.views import bp as exhibitors_bp
    from .leads.views import bp as leads_bp
    from .onsite.api import bp as api_bp
    from .onsite.views import bp as onsite_bp
    from .postshow.views import bp as postshow_bp
    from .visitors import tasks as _visitor_tasks  # noqa: F401
    from .visitors.views import bp as visitors_bp

    for blueprint in (core_bp, exhibitors_bp, visitors_bp, leads_bp, onsite_bp, postshow_bp, api_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens; session callers are checked in api.py

    from .core.templating import init_templating

    init_templating(app)
    return app


def select_locale() -> str:
    languages = ("zh_CN", "en")
    chosen = session.get("lang") if request else None
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "locale", None) in languages:
        return current_user.locale
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"]) if request else None
    return "zh_CN" if best in ("zh_CN", "zh") else "en"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL and foreign keys for the embedded SQLite database; other databases are left alone."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
