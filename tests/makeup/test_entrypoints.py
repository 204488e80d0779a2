"""The WSGI/ASGI entry points that gunicorn, runserver and docker-compose load."""


def test_wsgi_and_asgi_applications_load():
    from config.asgi import application as asgi_app
    from config.wsgi import application as wsgi_app

    assert callable(wsgi_app) and callable(asgi_app)


def test_health_endpoint_answers_with_one_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz/")
    assert response.status_code == 200 and response.content == b"ok\n"


def test_the_wsgi_worker_freezes_the_loaded_project():
    """A gunicorn worker loads config.wsgi once: the project's own objects (apps, models,
    URLs, views) leave the garbage collector's generations, so a collection set off by a
    request no longer walks them all."""
    import subprocess
    import sys

    script = (
        "import gc; n = gc.get_freeze_count(); import config.wsgi, portal.views.home; "
        "print(n, gc.get_freeze_count())"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    before, after = int(out[0]), int(out[1])
    assert after - before > 50_000
