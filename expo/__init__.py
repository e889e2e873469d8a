"""Expo CRM: an exhibition CRM for organizers, exhibitors and visitors."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ROOT, Config
from .extensions import babel, csrf, db, limiter, login_manager, migrate

# The modules, lowest floor first (see DESIGN.md, Layout). Each declares what it plugs in (MODULE).
MODULES = ("expo.core", "expo.visitors", "expo.exhibitors", "expo.leads", "expo.matchmaking", "expo.surveys",
           "expo.support", "expo.onsite", "expo.postshow", "expo.campaigns")


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

    from .core.auth import init_request_guards
    from .core.registry import registry, resolve

    init_request_guards(app)  # before any blueprint adds its URL rules
    if app.config.get("PROXY_FIX"):  # the client's address, scheme and host as the trusted proxies saw them
        proxies = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    modules = registry.load(app.config.get("MODULES", MODULES))
    for module in modules:  # every table registered before migrations or queries
        if module.models:
            resolve(module.models)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "UTC")

    from .core.tasks import init_celery

    celery = init_celery(app)
    celery.conf.beat_schedule = registry.beat_schedule()
    for module in modules:
        for path in module.tasks:
            resolve(path)
        for path in module.blueprints:
            app.register_blueprint(resolve(path))

    from .core.db import commit_per_request
    from .core.templating import init_templating

    init_templating(app)
    commit_per_request(app)
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
