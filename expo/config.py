"""Settings, read from the environment (EXPO_*), with embedded defaults that need no services."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name, default=None):
    return os.environ.get(f"EXPO_{name}", default)


class Config:
    def __init__(self):
        self.INSTANCE_DIR = Path(_env("INSTANCE_DIR", ROOT / "instance"))
        self.SECRET_KEY = _env("SECRET_KEY") or _load_or_create_secret(self.INSTANCE_DIR)
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{self.INSTANCE_DIR / 'expo.sqlite'}")
        # Recycle connections rather than ping before every checkout: a ping is a round trip on every scan.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 1800}
        # Celery: a filesystem broker needs no server; Redis (or any broker URL) in production.
        broker = _env("BROKER_URL", "filesystem://")
        self.CELERY = {
            "broker_url": broker,
            "task_ignore_result": True,
            "task_always_eager": _env("CELERY_EAGER", "0") == "1",
            "task_eager_propagates": True,
            "broker_connection_retry_on_startup": True,
            "worker_hijack_root_logger": False,
        }
        if broker.startswith("filesystem://"):
            queue_dir = self.INSTANCE_DIR / "queue"
            self.CELERY["broker_transport_options"] = {
                "data_folder_in": str(queue_dir),
                "data_folder_out": str(queue_dir),
                "processed_folder": str(queue_dir / "processed"),
                "control_folder": str(queue_dir / "control"),
                "store_processed": False,
            }
        self.SMTP_URL = _env("SMTP_URL")  # smtp://user:pass@host:port  (smtps:// for TLS)
        self.MAIL_FROM = _env("MAIL_FROM", "Expo CRM <no-reply@expo.local>")
        self.PUBLIC_URL = _env("PUBLIC_URL")  # base address used in mails sent by the worker
        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_DEFAULT_TIMEZONE = "UTC"
        self.LANGUAGES = {"en": "English", "zh_CN": "中文"}
        self.WTF_CSRF_TIME_LIMIT = None
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # Behind TLS: cookies only over HTTPS, and Strict-Transport-Security on every answer (core.auth).
        self.SECURE_COOKIES = _env("SECURE_COOKIES", "0") == "1"
        self.SESSION_COOKIE_SECURE = self.REMEMBER_COOKIE_SECURE = self.SECURE_COOKIES
        self.HSTS_MAX_AGE = int(_env("HSTS_MAX_AGE", 365 * 24 * 3600))
        # Behind a reverse proxy: how many proxies' X-Forwarded-For/-Proto/-Host to trust (werkzeug ProxyFix).
        # 0 (the default) trusts none: a client could otherwise forge its address past the rate limits.
        proxies = _env("PROXY_FIX", "0")
        self.PROXY_FIX = int(proxies) if proxies.isdigit() else 0
        # Signed-in sessions live on the server (core.models.UserSession): ended at sign-out, after this long
        # without a request, and after this long in any case.
        self.SESSION_IDLE_MINUTES = int(_env("SESSION_IDLE_MINUTES", 8 * 60))
        self.SESSION_LIFETIME_HOURS = int(_env("SESSION_LIFETIME_HOURS", 7 * 24))
        # Failed sign-ins (a wrong password or two-factor code) allowed per account (the email typed) and per
        # client address, after which sign-in answers 429 until the window has passed. Successes never count.
        self.SIGN_IN_LIMIT_PER_ACCOUNT = _env("SIGN_IN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
        self.SIGN_IN_LIMIT_PER_ADDRESS = _env("SIGN_IN_LIMIT_PER_ADDRESS", "50 per 15 minutes")
        # Rate-limit counters: memory:// for one process; redis://… when several workers or machines serve.
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
        self.PUBLIC_FORM_RATE_LIMIT = _env("PUBLIC_FORM_RATE_LIMIT", "10/minute;50/hour")  # per address, public forms
        # colleagues registered by group submits, per address: each gets a badge mail
        self.GROUP_FORM_RATE_LIMIT = _env("GROUP_FORM_RATE_LIMIT", "30/hour")
        self.MAX_CONTENT_LENGTH = 16 * 1024 * 1024


def _load_or_create_secret(instance_dir: Path) -> str:
    """A stable per-installation secret so sessions survive restarts of the embedded app."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()
