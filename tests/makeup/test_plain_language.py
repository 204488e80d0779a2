"""DAY-4: plain language. No internal rule code on any page or e-mail, and in Czech the dates,
times and counts read as Czech: no English month or weekday name, no "(s)".

The main pages are rendered on the demo data (``seed_demo``) as the demo owner and the demo
parent, in English and in Czech (the user's own language); every e-mail template is rendered
in both languages, and the e-mails the demo and the services send are read from the outbox.
Names typed by people (classes such as "L2 Tuesday Dolphins", families, places) and the
countries' names are taken out of the text before the checks: they are data, not our words."""

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.template import engines
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from bookings.models import Family, Guardian, MakeupBooking, Student
from credits.models import CancellationPolicy, CreditState, MakeupCredit
from credits.services import credit_add_manual
from makeup.holidays import country_choices, public_holidays
from makeup.locale_formats.cs import formats as cs
from makeup.locale_formats.en import formats as en
from makeup.models import Company, CompanySettings, User
from makeup.notifications.email import render_email, send_email
from programmes.models import Class, Closure, Programme, Session
from tests.makeup.test_text_emails import HostileContext

RULE_CODE = re.compile(r"\b(ATT|POL|CRD|MKP|PKG|BAL|FRN|TEN|BEY|DAY|CLO|WAL|NTF|API)-\d+\b")
ENGLISH_DATE_WORD = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Monday|Tuesday|Wednesday|"
    r"Thursday|Friday|Saturday|Sunday|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b"
)
EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"


class _Visible(HTMLParser):
    """The text a reader sees: no tags, attributes, comments, scripts or styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def _data_words() -> list[str]:
    """Every name people typed (longest first), to take out of the text before the checks."""
    with scopes_disabled():
        words = [
            *Company.objects.values_list("name", flat=True),
            *Programme.objects.values_list("name", flat=True),
            *Programme.objects.values_list("description", flat=True),
            *Class.objects.values_list("name", flat=True),
            *Class.objects.values_list("location", flat=True),
            *Family.objects.values_list("name", flat=True),
            *Student.objects.values_list("first_name", flat=True),
            *Student.objects.values_list("last_name", flat=True),
            *Guardian.objects.values_list("full_name", flat=True),
            *User.objects.values_list("email", flat=True),
            *Closure.objects.values_list("name", flat=True),
        ]
        regions = set(
            CompanySettings.objects.exclude(holiday_country="").values_list(
                "holiday_country", "holiday_subdivision"
            )
        )
    # Public holidays' names ("Good Friday", "Easter Monday"): proper names from the holidays
    # library, as a school observes them — data, not our words.
    year = timezone.now().year
    for country, subdivision in regions:
        holidays = public_holidays(country, subdivision, date(year - 1, 1, 1), date(year + 2, 1, 1))
        words += [name for _day, name in holidays]
    # Country names (the Settings page's public holidays): proper names from CLDR, in the
    # reader's language — "Špicberky a Jan Mayen" is an island, not January.
    for language in ("en", "cs"):
        with translation.override(language):
            words += [name for _code, name in country_choices()]
    return sorted({w for w in words if w}, key=len, reverse=True)


def problems(text: str, *, language: str, data: list[str]) -> list[str]:
    for word in data:
        text = text.replace(word, " ")
    found = [m.group(0) for m in RULE_CODE.finditer(text)]
    if language == "cs":
        found += [m.group(0) for m in ENGLISH_DATE_WORD.finditer(text)]
        found += ["(s)"] * text.count("(s)")
    return found


def _check_page(client, url: str, *, language: str, data: list[str]) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    assert f'<html lang="{language}"' in html, url
    text = visible_text(html)
    found = problems(text, language=language, data=data)
    assert not found, f"{url} ({language}) shows {found}"
    return text


@pytest.fixture
def demo(db, language):
    """The demo, seeded in the test's language: texts stored while seeding (charges, history
    notes, decision messages) keep the language they were written in."""
    with translation.override(language):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with scopes_disabled():
        company = Company.objects.get(slug="riverside")
        owner = User.objects.get(email="owner@riverside.example")
        parent = User.objects.get(email="parent@riverside.example")
        family = Guardian.objects.get(user=parent).family
        credit = (
            MakeupCredit.objects.filter(
                company=company, state=CreditState.AVAILABLE, enrolment__student__family=family
            )
            .select_related("enrolment__klass__programme")
            .first()
        )
        booking = MakeupBooking.objects.filter(company=company).select_related("session").first()
        session = booking.session if booking else Session.objects.filter(company=company).first()
        host = (
            Session.objects.filter(
                company=company,
                klass__programme=credit.enrolment.klass.programme,
                starts_at__gt=timezone.now(),
            )
            .exclude(klass=credit.enrolment.klass)
            .order_by("starts_at")
            .first()
        )
        policy = CancellationPolicy.objects.filter(company=company).first()
        closure = Closure.objects.get(company=company, name="Pool maintenance")  # applied
    assert credit is not None and session is not None and host is not None
    return {
        "company": company,
        "owner": owner,
        "parent": parent,
        "family": family,
        "credit": credit,
        "session": session,
        "host": host,
        "policy": policy,
        "closure": closure,
        "data": _data_words(),
    }


def _staff_pages(demo, login, language):
    demo["owner"].language = language
    demo["owner"].save(update_fields=["language"])
    client = login(demo["owner"])
    credit, session, host = demo["credit"], demo["session"], demo["host"]
    day = host.local_date
    urls = [
        "/manage/",
        "/manage/sessions/",
        f"/manage/sessions/?date={day:%Y-%m-%d}",
        f"/manage/sessions/{session.pk}/",
        "/manage/families/",
        f"/manage/families/{demo['family'].pk}/",
        f"/manage/classes/{session.klass_id}/",
        f"/manage/programmes/{demo['policy'].programme_id}/policy/",
        f"/manage/credits/{credit.pk}/makeup/",
        f"/manage/credits/{credit.pk}/makeup/?session={host.pk}",
        f"/manage/makeups/why-not/?credit={credit.pk}&session={host.pk}",
        f"/manage/sessions/{host.pk}/makeup-guest/",
        "/manage/reports/",
        "/manage/reports/instructor-pay/",
        "/manage/reports/makeup-liability/",
        "/manage/credits/",
        "/manage/classes/",
        "/manage/claims/",
        "/manage/settings/",
        "/manage/settings/closures/",
        "/manage/settings/closures/new/",
        f"/manage/settings/closures/{demo['closure'].pk}/",
        "/manage/programmes/",
    ]
    texts = {url: _check_page(client, url, language=language, data=demo["data"]) for url in urls}
    if language == "cs":
        # Dates are written the Czech way: "út 24. listopadu", "24. listopadu 2026".
        joined = " ".join(texts.values())
        assert re.search(
            r"\b\d{1,2}\. (ledna|února|března|dubna|května|června|července|"
            r"srpna|září|října|listopadu|prosince)\b",
            joined,
        )
        assert re.search(r"\b(po|út|st|čt|pá|so|ne) \d{1,2}\. ", joined)


def _parent_pages(demo, login, language):
    demo["parent"].language = language
    demo["parent"].save(update_fields=["language"])
    client = login(demo["parent"])
    credit, host = demo["credit"], demo["host"]
    base = f"/portal/{demo['company'].slug}/"
    search = _check_page(
        client, f"{base}makeups/?credit={credit.pk}", language=language, data=demo["data"]
    )
    _check_page(client, base, language=language, data=demo["data"])
    _check_page(
        client, f"{base}makeups/book/{credit.pk}/{host.pk}/", language=language, data=demo["data"]
    )
    if language == "cs":
        assert re.search(r"\b\d{1,2}\. (listopadu|prosince|ledna|února)\b", search)


@pytest.mark.parametrize("language", ["en", "cs"])
def test_day_4_pages_and_emails_show_no_rule_code_and_czech_dates(
    demo, login, language, django_capture_on_commit_callbacks
):
    """The demo is seeded once per language (it takes a while): the staff pages as its owner,
    the parent's pages, and the e-mails of real flows, all in the user's own language."""
    _staff_pages(demo, login, language)
    _parent_pages(demo, login, language)
    _service_emails(demo, language, django_capture_on_commit_callbacks)


def _email_templates() -> list[str]:
    return sorted(p.name.removesuffix("_subject.txt") for p in EMAILS.glob("*_subject.txt"))


@pytest.mark.parametrize("language", ["en", "cs"])
@pytest.mark.parametrize("name", _email_templates())
def test_day_4_every_email_template_is_plain_in_both_languages(name, language):
    """Each e-mail (subject, text and HTML body) with every variable filled: names are
    hostile text, ``*_at`` values and dates are dates (see ``test_text_emails``)."""
    engine = engines["django"].engine
    with translation.override(language):
        for part in ("subject.txt", "body.txt", "body.html"):
            template = engine.get_template(f"emails/{name}_{part}")
            for equal, truthy in ((True, True), (False, True), (True, False)):
                out = template.render(HostileContext(equal=equal, truthy=truthy))
                text = visible_text(out) if part.endswith(".html") else out
                found = problems(text, language=language, data=[])
                assert not found, f"{name}_{part} ({language}) shows {found}"


def _service_emails(demo, language, django_capture_on_commit_callbacks):
    """The e-mails of real flows: a credit added by hand (with its expiry), and the
    templated helper with the demo's session for the reminder and the booking e-mails."""
    parent, credit = demo["parent"], demo["credit"]
    parent.language = language
    parent.save(update_fields=["language"])
    mail.outbox.clear()
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        credit_add_manual(
            enrolment=credit.enrolment,
            reason="Pool closed",
            actor=demo["owner"],
            valid_days=60,
            now=timezone.now(),
        )
    with scopes_disabled():
        context = {
            "company": demo["company"],
            "guardian": Guardian.objects.get(user=parent),
            "student": credit.enrolment.student,
            "session": demo["host"],
            "credit": credit,
            "link": "/portal/",
            "tz": demo["company"].timezone,
        }
        for template in ("lesson_reminder", "makeup_booked"):
            subject, text, html = render_email(template, context, language)
            send_email(subject=subject, text=text, html=html, to=[parent.email])
    assert len(mail.outbox) >= 3
    for message in mail.outbox:
        html = next((c for c, mime in message.alternatives if mime == "text/html"), "")
        for text in (message.subject, message.body, visible_text(html)):
            found = problems(text, language=language, data=demo["data"])
            assert not found, f"{message.subject!r} ({language}) shows {found}"
    if language == "cs":
        assert any(
            re.search(r"\b\d{1,2}\. (listopadu|prosince|ledna|února)\b", m.body)
            for m in mail.outbox
        )


def test_day_4_named_date_formats_exist_in_every_language():
    """A named format missing in one language would print its own name as a date."""
    names = {n for n in vars(en) if n.endswith("_FORMAT")}
    assert names == {n for n in vars(cs) if n.endswith("_FORMAT")}
    assert {code for code, _ in settings.LANGUAGES} == {"en", "cs"}
