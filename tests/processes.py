"""Real processes for the CI tests on PostgreSQL + Redis: a Celery worker configured from the
environment like production, and a private Redis server a test may stop and start."""

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def database_url(name: str | None = None) -> str:
    """A URL of the test database (or database ``name`` on its server), for a child process."""
    db = connection.settings_dict
    user = db.get("USER") or "root"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name or db['NAME']}"


def unique_queue() -> str:
    return f"test-{os.getpid()}-{time.monotonic_ns()}"


def start_worker(*, queue: str, mail_dir: Path, **env) -> subprocess.Popen:
    """A ``celery worker`` (solo pool) on its own queue, writing e-mails into ``mail_dir``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "EMAIL_URL": f"filemail://{mail_dir}",
            "CELERY_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> str:
    """Stop a child process; returns what it printed."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.communicate(timeout=20)[0] or ""
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0] or ""


@contextmanager
def sending_to(queue: str, broker_url: str | None = None):
    """This process's Celery publishes for real (not eagerly) to ``queue`` on
    ``broker_url`` (default: the configured broker)."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue, conf.broker_url
    conf.task_always_eager = False
    conf.task_default_queue = queue
    if broker_url:
        conf.broker_url = broker_url
        _drop_connections()
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_default_queue, conf.broker_url = saved
        if broker_url:
            _drop_connections()


def _drop_connections() -> None:
    """Forget pooled broker connections, so the next publish connects to the new URL (what
    Celery itself does after a fork)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private ``redis-server`` on its own port that keeps nothing on disk, like the
    machine's; :meth:`stop` and :meth:`start` it as a fault test needs."""

    def __init__(self) -> None:
        if not shutil.which("redis-server"):
            pytest.fail("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def wait_for(predicate, *, seconds: float, worker: subprocess.Popen | None = None, what: str):
    """Poll ``predicate`` until it returns something truthy; fail with the worker's output."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker died while waiting for {what}:\n{stop(worker)}")
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"no {what} within {seconds} s" + (f":\n{stop(worker)}" if worker else ""))
