"""The WSGI/ASGI entry points that gunicorn, runserver and docker-compose load."""


def test_wsgi_and_asgi_applications_load():
    from config.asgi import application as asgi_app
    from config.wsgi import application as wsgi_app

    assert callable(wsgi_app) and callable(asgi_app)


def test_health_endpoint_answers_with_one_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz/")
    assert response.status_code == 200 and response.content == b"ok\n"
