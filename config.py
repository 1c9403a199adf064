"""Parlor settings from the environment: the only module that reads ``os.environ``."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def vendor_variable(name: str) -> str | None:
    """A vendor's environment variable, as a vendor kind declares it (app/vendors/registry.py:
    ``VendorKind.environment``); unset or empty: None."""
    return _env(name)


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance: Path, filename: str, make) -> str:
    """Read a development secret kept in ``instance/``, creating it (mode 0600) on first use."""
    path = instance / filename
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver that Parlor installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def share_metrics_dir() -> tuple[str, bool]:
    """For gunicorn's master, before it forks: the directory its workers share their metrics in
    (``PROMETHEUS_MULTIPROC_DIR``), a new temporary one (exported to the workers) when unset.
    The flag says whether it was made here."""
    path = _env("PROMETHEUS_MULTIPROC_DIR")
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        return path, False
    path = tempfile.mkdtemp(prefix="parlor-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path, True


def serve_workers() -> int:
    """gunicorn's worker count for ``make serve``: ``WEB_CONCURRENCY`` (as gunicorn reads it),
    else one per core."""
    value = _env("WEB_CONCURRENCY")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ConfigError(f"WEB_CONCURRENCY must be a whole number, not {value!r}") from None
    return os.cpu_count() or 1


def max_concurrent_requests() -> int:
    """``PARLOR_MAX_CONCURRENT_REQUESTS``: requests one worker holds at once (0: no limit)."""
    return int(_env("PARLOR_MAX_CONCURRENT_REQUESTS", "1000"))


def serve_connections() -> int:
    """gunicorn's ``worker_connections``: the admission limit and room above it, so a request
    past the limit is answered 503 rather than left unaccepted, and health checks, metrics
    scrapes and idle keep-alive connections still fit."""
    return (max_concurrent_requests() or 1000) + 100


class ConfigError(RuntimeError):
    """The environment does not describe a configuration Parlor can start with."""


def parse_role_map(text: str) -> list[tuple[str, str]]:
    """``PARLOR_OIDC_ROLE_MAP`` (``group=role,group=role``) as ordered pairs: the first pair
    whose group a user is in gives their role."""
    pairs = []
    for item in text.split(","):
        if not item.strip():
            continue
        group, sep, role = item.partition("=")
        if not sep or not group.strip() or not role.strip():
            raise ConfigError(f"PARLOR_OIDC_ROLE_MAP: {item.strip()!r} is not group=role")
        pairs.append((group.strip(), role.strip()))
    return pairs


class Config:
    """Settings shared by every environment; subclasses change the defaults."""

    ENV_NAME = "base"
    TESTING = False
    DEBUG = False
    MOCK_VENDOR_DEFAULT = True
    MOCK_DELAY_DEFAULT = "25"
    USAGE_FLUSH_DEFAULT = "200"
    GENERATE_SECRETS = True

    def __init__(self, **overrides) -> None:
        instance = Path(_env("PARLOR_INSTANCE_PATH", str(BASE_DIR / "instance")))
        self.INSTANCE_PATH = str(instance)

        self.SECRET_KEY = _env("SECRET_KEY")
        keys = _env("PARLOR_ENCRYPTION_KEYS")
        self.PARLOR_ENCRYPTION_KEYS = [k.strip() for k in (keys or "").split(",") if k.strip()]
        if self.GENERATE_SECRETS:
            if not self.SECRET_KEY:
                self.SECRET_KEY = _instance_secret(
                    instance, "secret_key", lambda: secrets.token_urlsafe(48)
                )
            if not self.PARLOR_ENCRYPTION_KEYS:
                self.PARLOR_ENCRYPTION_KEYS = [
                    _instance_secret(instance, "encryption_key", _new_fernet_key)
                ]

        default_db = f"sqlite:///{instance / 'parlor.db'}"
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(_env("DATABASE_URL", default_db))
        # A gevent worker serves many requests at once: a pool of 5 (SQLAlchemy's default)
        # would open and close an overflow connection for most of them.
        # A server database may restart under Parlor: each checkout pings it first, so a
        # dead connection is replaced, not handed to a request. (An SQLite file cannot go
        # away like that, and the ping would cost every request a query.)
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            "pool_pre_ping": not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"),
            "pool_size": 20, "max_overflow": 40, "pool_timeout": 10}
        self.REDIS_URL = _env("REDIS_URL")

        # Vendors bootstrapped from the environment (shown read-only in the admin screens) are
        # read through vendor_variable(): each vendor kind declares its variables in
        # app/vendors/registry.py (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY...).

        # Feature flags and defaults.
        self.PARLOR_MOCK_VENDOR = _flag("PARLOR_MOCK_VENDOR", self.MOCK_VENDOR_DEFAULT)
        self.PARLOR_MOCK_DELAY_MS = int(_env("PARLOR_MOCK_DELAY_MS", self.MOCK_DELAY_DEFAULT))
        self.PARLOR_ADMIN_EMAIL = _env("PARLOR_ADMIN_EMAIL")
        self.PARLOR_ADMIN_PASSWORD = _env("PARLOR_ADMIN_PASSWORD")
        # Request bodies: the browser and /api/v1, and the vendor-compatible /v1, where coding
        # agents send whole repositories' worth of context and images (app/security.py).
        self.MAX_CONTENT_LENGTH = int(_env("PARLOR_MAX_REQUEST_BYTES", str(1024 * 1024)))
        self.PARLOR_MAX_API_REQUEST_BYTES = int(
            _env("PARLOR_MAX_API_REQUEST_BYTES", str(32 * 1024 * 1024)))
        # Attachments: a folder to keep them in (unset: the database), the size of one file
        # and what one user may keep in all (app/services/attachments.py).
        self.PARLOR_ATTACHMENTS_DIR = _env("PARLOR_ATTACHMENTS_DIR")
        self.PARLOR_ATTACHMENT_MAX_BYTES = int(
            _env("PARLOR_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
        self.PARLOR_ATTACHMENT_QUOTA_BYTES = int(
            _env("PARLOR_ATTACHMENT_QUOTA_BYTES", str(500 * 1024 * 1024)))
        self.PARLOR_RATE_LIMIT = _env("PARLOR_RATE_LIMIT", "60/minute")
        self.PARLOR_LOGIN_RATE_LIMIT = _env("PARLOR_LOGIN_RATE_LIMIT", "10/minute")  # per account
        self.PARLOR_LOGIN_IP_RATE_LIMIT = _env("PARLOR_LOGIN_IP_RATE_LIMIT", "30/minute")
        # Reverse proxies in front of Parlor whose X-Forwarded-For / -Proto are trusted.
        self.PARLOR_TRUSTED_PROXIES = int(_env("PARLOR_TRUSTED_PROXIES", "0"))
        self.PARLOR_DEFAULT_MODEL = _env("PARLOR_DEFAULT_MODEL")
        # The small model that names a conversation after its first reply (unset: first words).
        self.PARLOR_TITLE_MODEL = _env("PARLOR_TITLE_MODEL")
        # A reasoning model may think ten minutes before its first token (the official SDKs
        # wait 600 s too), then write its answer: a call may take 15 minutes in all.
        self.PARLOR_VENDOR_TIMEOUT = float(_env("PARLOR_VENDOR_TIMEOUT", "900"))
        self.PARLOR_VENDOR_CONNECT_TIMEOUT = float(_env("PARLOR_VENDOR_CONNECT_TIMEOUT", "5"))
        self.PARLOR_VENDOR_RETRIES = int(_env("PARLOR_VENDOR_RETRIES", "2"))
        # A stream's first token, the longest gap between two chunks, and the whole call.
        # Between chunks: Anthropic sends only a ping every 15-30 s while a model thinks with
        # its thinking display omitted (as Claude Code asks), so a gap of two minutes is
        # still a live stream.
        self.PARLOR_VENDOR_FIRST_TOKEN_TIMEOUT = float(
            _env("PARLOR_VENDOR_FIRST_TOKEN_TIMEOUT", "600"))
        self.PARLOR_VENDOR_IDLE_TIMEOUT = float(_env("PARLOR_VENDOR_IDLE_TIMEOUT", "120"))
        self.PARLOR_VENDOR_TOTAL_TIMEOUT = float(
            _env("PARLOR_VENDOR_TOTAL_TIMEOUT", str(self.PARLOR_VENDOR_TIMEOUT)))
        self.PARLOR_RETRY_BUDGET = float(_env("PARLOR_RETRY_BUDGET", "20"))
        self.PARLOR_CATALOG_TTL = float(_env("PARLOR_CATALOG_TTL", "30"))
        # A deployment (route) with this many transient failures within the window is taken
        # out of rotation for the cooldown; then one probe call decides (app/vendors/balancing.py).
        self.PARLOR_COOLDOWN_FAILURES = int(_env("PARLOR_COOLDOWN_FAILURES", "3"))
        self.PARLOR_COOLDOWN_WINDOW = float(_env("PARLOR_COOLDOWN_WINDOW", "60"))
        self.PARLOR_COOLDOWN_SECONDS = float(_env("PARLOR_COOLDOWN_SECONDS", "30"))
        # Seconds between active health checks of the deployments that opt in (0: none): a
        # one-token call whose failure counts like a live call's (app/vendors/health_checks.py).
        self.PARLOR_HEALTH_CHECK_INTERVAL = float(_env("PARLOR_HEALTH_CHECK_INTERVAL", "0"))
        # API calls' usage rows are written in batches this often, off the request path
        # (0: each row is written before the answer goes out).
        self.PARLOR_USAGE_FLUSH_MS = int(_env("PARLOR_USAGE_FLUSH_MS", self.USAGE_FLUSH_DEFAULT))
        # A reply being written holds a lease its writer renews; once it lapses (the worker
        # was killed) the reply is interrupted. A reply nobody follows any more (the page was
        # closed, not reloaded) is ended after the orphan period.
        self.PARLOR_REPLY_LEASE_SECONDS = float(_env("PARLOR_REPLY_LEASE_SECONDS", "30"))
        self.PARLOR_REPLY_ORPHAN_SECONDS = float(_env("PARLOR_REPLY_ORPHAN_SECONDS", "5"))
        # Load shedding, per worker (app/admission.py): requests held at once (streams
        # included) and how late the event loop may run before new requests get a 503 (0: off).
        self.PARLOR_MAX_CONCURRENT_REQUESTS = max_concurrent_requests()
        self.PARLOR_MAX_LOOP_LAG_MS = float(_env("PARLOR_MAX_LOOP_LAG_MS", "2000"))
        # Requests a worker starts at once, first come first served (app/admission.py); 0: all.
        self.PARLOR_START_CONCURRENCY = int(_env("PARLOR_START_CONCURRENCY", "8"))
        self.PARLOR_STARTS_FIRST_SECONDS = float(_env("PARLOR_STARTS_FIRST_SECONDS", "2"))
        # /metrics: this bearer token (for the scraper) or a signed-in admin; unset: admins only.
        self.PARLOR_METRICS_TOKEN = _env("PARLOR_METRICS_TOKEN")
        # Set for gunicorn's workers by gunicorn.conf.py: where they share their metrics.
        self.PROMETHEUS_MULTIPROC_DIR = _env("PROMETHEUS_MULTIPROC_DIR")
        # OpenTelemetry traces (app/telemetry.py): on when an OTLP endpoint is set; the exporter
        # reads it, and its other OTEL_EXPORTER_OTLP_* variables, itself.
        endpoint = (_env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                    or _env("OTEL_EXPORTER_OTLP_ENDPOINT"))
        self.OTEL_TRACING = bool(endpoint) and not _flag("OTEL_SDK_DISABLED", False)
        self.OTEL_SERVICE_NAME = _env("OTEL_SERVICE_NAME", "parlor")
        # Prompts and replies on the spans (GenAI's variable): off unless set to true.
        self.OTEL_CAPTURE_CONTENT = _flag("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
                                          False)

        # OpenID Connect sign-in (app/web/oidc.py); off unless an issuer is set.
        self.PARLOR_OIDC_ISSUER = (_env("PARLOR_OIDC_ISSUER") or "").rstrip("/") or None
        self.PARLOR_OIDC_CLIENT_ID = _env("PARLOR_OIDC_CLIENT_ID")
        self.PARLOR_OIDC_CLIENT_SECRET = _env("PARLOR_OIDC_CLIENT_SECRET")
        self.PARLOR_OIDC_NAME = _env("PARLOR_OIDC_NAME", "SSO")
        self.PARLOR_OIDC_SCOPES = " ".join(
            ["openid", "email", "profile"]
            + [s for s in (_env("PARLOR_OIDC_SCOPES") or "").replace(",", " ").split()
               if s not in ("openid", "email", "profile")])
        self.PARLOR_OIDC_ROLES_CLAIM = _env("PARLOR_OIDC_ROLES_CLAIM")
        self.PARLOR_OIDC_ROLE_MAP = parse_role_map(_env("PARLOR_OIDC_ROLE_MAP") or "")
        self.PARLOR_OIDC_DEFAULT_ROLE = _env("PARLOR_OIDC_DEFAULT_ROLE")
        self.PARLOR_OIDC_LINK_BY_EMAIL = _flag("PARLOR_OIDC_LINK_BY_EMAIL", False)
        self.PARLOR_PASSWORD_LOGIN = _flag("PARLOR_PASSWORD_LOGIN", True)
        if self.PARLOR_OIDC_ISSUER and not self.PARLOR_OIDC_CLIENT_ID:
            raise ConfigError("PARLOR_OIDC_ISSUER needs PARLOR_OIDC_CLIENT_ID (and, for a "
                              "confidential client, PARLOR_OIDC_CLIENT_SECRET)")
        if not self.PARLOR_PASSWORD_LOGIN and not self.PARLOR_OIDC_ISSUER:
            raise ConfigError("PARLOR_PASSWORD_LOGIN=off needs OpenID Connect sign-in "
                              "(PARLOR_OIDC_ISSUER), or nobody could sign in")

        # Serving (run.py) and browser security.
        self.HOST = _env("HOST", "127.0.0.1")
        self.PORT = int(_env("PORT", "5000"))
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")

        for key, value in overrides.items():
            setattr(self, key, value)
        self.validate()

    def validate(self) -> None:
        """Refuse a configuration that cannot run safely."""

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in dir(self) if key.isupper()}


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    MOCK_DELAY_DEFAULT = "0"
    USAGE_FLUSH_DEFAULT = "0"  # tests read the ledger right after a call

    def __init__(self, **overrides) -> None:
        overrides.setdefault("WTF_CSRF_ENABLED", True)
        super().__init__(**overrides)


class ProductionConfig(Config):
    ENV_NAME = "production"
    MOCK_VENDOR_DEFAULT = False
    GENERATE_SECRETS = False

    def __init__(self, **overrides) -> None:
        super().__init__(**overrides)
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True
        # __Host-: sent only over HTTPS, for this host and path "/" (no subdomain can set it).
        self.SESSION_COOKIE_NAME = "__Host-parlor"
        self.REMEMBER_COOKIE_NAME = "__Host-parlor_remember"
        self.SESSION_COOKIE_PATH = "/"
        self.REMEMBER_COOKIE_PATH = "/"

    def validate(self) -> None:
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", self.SECRET_KEY),
                ("PARLOR_ENCRYPTION_KEYS", self.PARLOR_ENCRYPTION_KEYS),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                "Production needs " + " and ".join(missing) + " set in the environment. "
                "Generate a Fernet key with: python -c "
                "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the settings for ``name`` (default: ``PARLOR_ENV``, else development)."""
    name = name or _env("PARLOR_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise ConfigError(f"PARLOR_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
