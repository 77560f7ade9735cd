"""Production settings: the security switches on, and no start without real secrets."""

import os

from django.core.exceptions import ImproperlyConfigured

# REDIS_URL too: without it the embedded demo broker (a folder of files) would carry production jobs.
_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "REDIS_URL")
_missing = [name for name in _REQUIRED if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(f"Production settings need these environment variables: {', '.join(_missing)}")
if len(os.environ["SECRET_KEY"]) < 50:
    # Django's own deploy check (security.W009) asks for at least 50 characters; refuse rather than warn.
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long (e.g. `openssl rand -base64 48`).")
os.environ.setdefault("DEBUG", "false")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

if DEBUG:  # noqa: F405
    raise ImproperlyConfigured("DEBUG must be off in production.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
