"""Languages: the parent's (or staff member's) own choice, else the chooser's cookie, else the
company's language, else the browser's."""

from makeup.models import User


def _lang(response) -> str:
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_company_language_is_the_default_for_its_portal(world, client):
    world.company_a.language = "cs"
    world.company_a.save()
    assert _lang(client.get("/portal/alpha/signup/")) == "cs"
    assert _lang(client.get("/portal/beta/signup/")) == "en"


def test_the_chooser_sets_a_cookie_for_visitors_and_the_login_for_users(world, client, login):
    response = client.post(
        "/accounts/language/", {"language": "cs", "next": "/portal/beta/signup/"}
    )
    assert response.status_code == 302 and response["Location"] == "/portal/beta/signup/"
    assert _lang(client.get("/portal/beta/signup/")) == "cs"
    parent = login(world.parent_a)
    parent.post("/accounts/language/", {"language": "cs", "next": "/portal/alpha/"})
    assert User.objects.get(pk=world.parent_a.pk).language == "cs"
    assert _lang(parent.get("/portal/alpha/")) == "cs"


def test_the_users_choice_beats_the_company_language(world, login):
    world.company_a.language = "cs"
    world.company_a.save()
    world.parent_a.language = "en"
    world.parent_a.save()
    assert _lang(login(world.parent_a).get("/portal/alpha/")) == "en"


def test_the_chooser_refuses_unknown_languages_and_foreign_redirects(client):
    response = client.post(
        "/accounts/language/", {"language": "xx", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
    assert "django_language" not in response.cookies
    assert client.get("/accounts/language/").status_code == 405
