"""Configuration from the environment: laptop defaults, production mode, docker-compose."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7Qk2v9LmP4tR8wZ1cB6nH3jD5fG0sA9yU2iO7eT4rW8qE1zX6vC3bN5mK0lJ9hG",
    "ALLOWED_HOSTS": "makeup.example.com",
    "DATABASE_URL": "postgres://makeup:secret@db.internal:5432/makeup",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; a server never has it.
    skip = {*PRODUCTION_ENV, "CI", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in skip}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production_mode():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_bal_5_production_mode_takes_no_test_payments_by_default():
    code = "from django.conf import settings as s; print(repr(s.PAYMENT_PROVIDER))"
    result = _manage("shell", "-v", "0", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "''"  # no online payments, never the test provider


def test_bal_5_production_mode_refuses_the_test_provider_unless_allowed_explicitly():
    result = _manage("check", env={**PRODUCTION_ENV, "PAYMENT_PROVIDER": "test"})
    assert result.returncode != 0
    assert "ALLOW_TEST_PAYMENTS=1" in result.stderr


def test_bal_5_check_deploy_warns_when_test_payments_are_on():
    env = {**PRODUCTION_ENV, "PAYMENT_PROVIDER": "test", "ALLOW_TEST_PAYMENTS": "1"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "makeup.W001" in result.stderr + result.stdout
    assert "no money is taken" in result.stderr + result.stdout


def test_ntf_1_a_malformed_notifications_key_fails_at_start():
    result = _manage("check", env={**PRODUCTION_ENV, "NOTIFICATIONS_SECRET_KEY": "too-short"})
    assert result.returncode != 0
    assert "makeup.E001" in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_mode_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_production_settings_are_secure():
    code = (
        "from django.conf import settings as s;"
        "db = s.DATABASES['default'];"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " db['ENGINE'], db['CONN_MAX_AGE'], s.CELERY_BROKER_URL, s.MAILERS['default']['BACKEND'])"
    )
    result = _manage("shell", "-v", "0", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    out = result.stdout.split()
    assert out[:3] == ["False", "True", "True"]
    assert int(out[3]) >= 31536000
    assert out[4] == "django.db.backends.postgresql"
    assert int(out[5]) > 0  # persistent connections (CONN_MAX_AGE)
    assert out[6] == "redis://redis.internal:6379/0"
    assert out[7] == "django.core.mail.backends.smtp.EmailBackend"


def test_laptop_defaults_need_no_services():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.MAILERS['default']['BACKEND'])"
    )
    env = {"DATABASE_URL": "", "REDIS_URL": "", "EMAIL_URL": "", "CELERY_BROKER_URL": ""}
    clean = {k: v for k, v in os.environ.items() if k not in env and k not in PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.mail.backends.filebased.EmailBackend",  # var/mail/, read at /manage/dev/mail/
    ]


def test_content_security_policy_header_is_sent(client, db):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def test_docker_compose_names_the_services_and_the_variables_the_settings_read():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mail"} <= set(services)
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read_by_settings = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_source))
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        keys = (
            set(environment)
            if isinstance(environment, dict)
            else {item.split("=", 1)[0] for item in environment}
        )
        assert {
            "DATABASE_URL",
            "REDIS_URL",
            "EMAIL_URL",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DEBUG",
        } <= keys, name
        assert keys <= read_by_settings, f"{name} sets variables the settings never read"
    assert "gunicorn" in " ".join(services["web"]["command"])
