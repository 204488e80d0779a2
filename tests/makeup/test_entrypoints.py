"""The WSGI/ASGI entry points that gunicorn, runserver and docker-compose load."""


def test_wsgi_and_asgi_applications_load():
    from makeup.asgi import application as asgi_app
    from makeup.wsgi import application as wsgi_app

    assert callable(wsgi_app) and callable(asgi_app)
