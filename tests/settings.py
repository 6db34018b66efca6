"""Settings for the test suite: the project's settings, with the development secret allowed and fast hashing."""

import os

os.environ.setdefault("GRENIER_ALLOW_DEV_SECRET", "1")

from grenier.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory: tests that race threads need each thread to open its own connection to the same data.
    # One file per process, so that two test runs on one machine (or pytest-xdist's workers) never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-grenier-{os.getpid()}.sqlite3")}  # noqa: F405

# The browser's clock is the machine's, the server's is pinned by the tests (tests/conftest.py): cookies that live
# for the browser session only, so that no expiry date set on the pinned clock looks past to the browser.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_AGE = None

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # Django empties the test database between transactional tests with TRUNCATE, which the ledger's triggers
    # refuse unless the session allows it (grenier/ledger/migrations/0003); production sessions never do.
    _options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _options["options"] = f"{_options.get('options', '')} -c grenier.allow_ledger_truncate=on".strip()
