"""The make-up search's result rows, written in Python: the busiest list in the portal (up to
a page of sessions, each with a few branches) costs a fraction of the same markup as nested
template tags, and the markup stays in one function next to the template that uses it."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.simple_tag(takes_context=True)
def makeup_rows(context, candidates) -> SafeString:
    """One ``<li>`` per candidate session of a day: time, class, partner branch, places
    left or full, and the action — book, watching, watch for a free place, or none."""
    credit = context["credit"]
    result = context["result"]
    book_base = context["book_base"]
    can_watch = result.watch_count < context["max_watches"]
    return format_html_join(
        "\n",
        "{}",
        ((_row(c, credit, result.watched_session_ids, can_watch, book_base),) for c in candidates),
    )


def _row(candidate, credit, watched, can_watch, book_base) -> SafeString:
    session = candidate.session
    klass = session.klass
    partner = ""
    if session.company_id != credit.company_id:
        address = format_html(" · {}", session.company.address) if session.company.address else ""
        partner = format_html(
            '<div class="small partner-branch"><span class="badge text-bg-secondary">{}</span>'
            " <strong>{}</strong>{}</div>",
            _("Partner branch"),
            session.company.name,
            address,
        )
    location = format_html("{} · ", klass.location) if klass.location else ""
    if candidate.bookable:
        n = candidate.places_left
        places = ngettext("%(n)s place left", "%(n)s places left", n) % {"n": n}
        action = format_html(
            '<a class="btn btn-primary btn-sm" href="{}{}/">{}</a>',
            book_base,
            session.pk,
            _("Book"),
        )
    else:
        places = _("Full")
        if session.pk in watched:
            action = format_html('<span class="badge text-bg-info">{}</span>', _("Watching"))
        elif can_watch and session.company_id == credit.company_id:
            action = format_html(
                '<a class="btn btn-outline-secondary btn-sm" href="{}{}/">{}</a>',
                book_base,
                session.pk,
                _("Watch for a free place"),
            )
        else:
            action = format_html('<span class="small text-body-secondary">{}</span>', _("Full"))
    return format_html(
        '<li class="list-group-item makeup-slot{}" id="slot-{}"><div class="lesson-row">'
        '<div class="lesson-what"><div class="fw-semibold">{}–{} · {}</div>{}'
        '<div class="small text-body-secondary">{}{}</div></div>'
        '<div class="lesson-action">{}</div></div></li>',
        "" if candidate.bookable else " is-full",
        session.pk,
        localtime(session.starts_at).strftime("%H:%M"),
        localtime(session.ends_at).strftime("%H:%M"),
        klass.name,
        partner,
        location,
        places,
        action,
    )
