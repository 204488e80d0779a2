"""Form widgets shared by every app."""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import normalize_newlines


class Textarea(forms.Textarea):
    """A textarea whose submitted value has ``\\n`` line breaks only. Browsers submit a
    textarea's line breaks as ``\\r\\n`` (the HTML standard), while text written by code, the
    demo or an import has ``\\n``: normalised at the input, a text saved unchanged equals
    what is stored (so the audit log records only real changes) and no text mixes both."""

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return normalize_newlines(value) if isinstance(value, str) else value


# --- widgets drawn in Python, for the busiest forms ----------------------------------------
# Django draws a widget through the form renderer's templates (a template per widget, one per
# option and one for the attributes): about half a millisecond per field. The make-up search
# draws its filters on every request a cache misses (issue 20), so its fields draw the same
# markup directly. tests/makeup/test_widgets.py holds them to Django's own output.


def _attrs(attrs: dict) -> str:
    """The attributes as Django's ``attrs.html`` writes them: in order, ``True`` as a bare
    name, ``False`` left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class QuickSelect(forms.Select):
    """A single ``<select>`` with flat choices, the same markup as :class:`forms.Select`."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = self.format_value(value)
        marked = False
        options = []
        for key, label in self.choices:
            key = "" if key is None else str(key)
            selected = not marked and key in chosen
            marked = marked or selected
            options.append(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    key,
                    " selected" if selected else "",
                    label,
                )
            )
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            name,
            _attrs(self.build_attrs(self.attrs, attrs)),
            mark_safe("".join(options)),  # noqa: S308 - each option escaped above
        )


class QuickDateInput(forms.DateInput):
    """An ``<input>`` for a date, the same markup as :class:`forms.DateInput`."""

    def render(self, name, value, attrs=None, renderer=None):
        shown = self.format_value(value)
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            self.input_type,
            name,
            format_html(' value="{}"', shown) if shown is not None else "",
            _attrs(self.build_attrs(self.attrs, attrs)),
        )
