"""TEN-1 for the programme and class pages: another company's ids answer 404, and nothing
of theirs changes; the lists show only the company's own rows."""

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_ten_1_programme_and_class_urls_answer_404_for_another_companys_ids(world, login):
    programme = f.ProgrammeFactory(company=world.company_a)
    klass = f.ClassFactory(programme=programme)
    client = login(world.owner_b)  # the highest role, so only tenancy can refuse
    for name, kwargs in [
        ("manage:programme_edit", {"programme_pk": programme.pk}),
        ("manage:programme_archive", {"programme_pk": programme.pk}),
        ("manage:class_edit", {"class_pk": klass.pk}),
        ("manage:class_archive", {"class_pk": klass.pk}),
    ]:
        url = reverse(name, kwargs=kwargs)
        assert client.post(url).status_code == 404, url
        assert client.get(url).status_code in (404, 405), url
    programme.refresh_from_db()
    klass.refresh_from_db()
    assert not programme.is_archived and not klass.is_archived


def test_ten_1_class_list_filter_cannot_name_another_companys_programme(world, login):
    foreign = f.ClassFactory(programme__company=world.company_b, name="Beta Class")
    f.ClassFactory(programme__company=world.company_a, name="Alpha Class")
    response = login(world.staff_a).get(
        reverse("manage:class_list"), {"programme": foreign.programme_id}
    )
    assert response.status_code == 200
    assert "programme" in response.context["filter_form"].errors
    assert [c.name for c in response.context["classes"]] == ["Alpha Class"]
    assert "Beta Class" not in response.content.decode()
