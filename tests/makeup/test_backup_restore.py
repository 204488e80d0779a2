"""Operations (docs/operations.md): a PostgreSQL backup taken with pg_dump restores into a
fresh database, and the data invariants hold there (check_invariants)."""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from credits.services import credit_add_manual
from makeups.services import makeup_book
from tests import factories as f
from tests.processes import ROOT, database_url


@pytest.mark.postgres
@pytest.mark.realclock
@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_a_fresh_database_and_the_invariants_hold(world, tmp_path):
    from datetime import date, timedelta

    klass = f.ClassFactory(programme__company=world.company_a, capacity=4)
    session = f.SessionFactory(klass=klass, local_date=timezone.localdate() + timedelta(days=3))
    enrolment = f.EnrolmentFactory(
        klass=f.ClassFactory(programme=klass.programme), student__date_of_birth=date(2020, 1, 1)
    )
    with scope(company=world.company_a):
        credit = credit_add_manual(
            enrolment=enrolment, reason="Backup test", actor=None, now=timezone.now()
        )
        makeup_book(credit=credit, actor=f.parent_of(credit), session=session, now=timezone.now())

    db = settings.DATABASES["default"]
    source = connection.settings_dict["NAME"]
    target = f"restore_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "backup.dump"
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), database_url(source)], check=True, env=env)
    subprocess.run(
        [
            "createdb",
            "-T",
            "template0",
            "-h",
            db.get("HOST") or "127.0.0.1",
            "-U",
            db.get("USER") or "root",
            target,
        ],
        check=True,
        env=env,
    )
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", database_url(target), str(dump)], check=True, env=env
        )
        checked = subprocess.run(
            [sys.executable, "manage.py", "check_invariants"],
            cwd=ROOT,
            env={**env, "DATABASE_URL": database_url(target), "REDIS_URL": ""},
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "All invariants hold." in checked.stdout
        counted = subprocess.run(
            ["psql", "-Atc", "select count(*) from bookings_makeupbooking", database_url(target)],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
        assert counted.stdout.strip() == "1"
    finally:
        subprocess.run(
            [
                "dropdb",
                "--if-exists",
                "-h",
                db.get("HOST") or "127.0.0.1",
                "-U",
                db.get("USER") or "root",
                target,
            ],
            env=env,
        )
