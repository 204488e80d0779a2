import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from bookings.models import Family
from makeup.models import Company, Membership, User


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_the_logins(capsys):
    call_command("seed_demo")
    counts = (Company.objects.count(), User.objects.count(), Membership.objects.count())
    with scopes_disabled():
        families = Family.objects.count()
    call_command("seed_demo")
    assert (Company.objects.count(), User.objects.count(), Membership.objects.count()) == counts
    with scopes_disabled():
        assert Family.objects.count() == families
    out = capsys.readouterr().out
    for email in (
        "owner@riverside.example",
        "staff@riverside.example",
        "parent@riverside.example",
        "owner@lakeside.example",
    ):
        assert email in out
    assert "makeup-demo" in out
    assert set(Company.objects.values_list("slug", flat=True)) >= {"riverside", "lakeside"}
    owner = User.objects.get(email="owner@riverside.example")
    assert owner.check_password("makeup-demo")
