import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from bookings.models import Family
from credits.models import CancellationPolicy, TermEndCredits
from makeup.models import Company, CompanySettings, Membership, User
from programmes.models import Programme


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


@pytest.mark.django_db
def test_wal_1_to_wal_5_the_demo_shows_the_family_wallet():
    """The demo turns the wallet on where a new user can try it: Riverside's siblings share
    credits (WAL-1), each level takes the level above's credits (WAL-3), unused credits
    carry into the next term (WAL-4), and Lakeside offers freed places (WAL-5)."""
    call_command("seed_demo")
    with scopes_disabled():
        riverside = {p.code: p for p in Programme.objects.filter(company__slug="riverside")}
        assert riverside and all(p.credit_transfer_allowed for p in riverside.values())
        assert list(riverside["SWIM-L2"].accepts_credits_from.all()) == [riverside["SWIM-L3"]]
        assert not riverside["SWIM-L4"].accepts_credits_from.exists()
        policies = CancellationPolicy.objects.filter(company__slug="riverside")
        assert {
            (p.term_end_credits, p.carry_extra_days, p.carry_max_credits) for p in policies
        } == {(TermEndCredits.CARRY, 28, 2)}
        lakeside = Company.objects.select_related("settings").get(slug="lakeside")
    assert lakeside.settings.watch_mode == CompanySettings.WatchMode.OFFER
    assert lakeside.settings.watch_offer_hours == 12
