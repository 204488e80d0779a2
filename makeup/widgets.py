"""Form widgets shared by every app."""

from django import forms
from django.utils.text import normalize_newlines


class Textarea(forms.Textarea):
    """A textarea whose submitted value has ``\\n`` line breaks only. Browsers submit a
    textarea's line breaks as ``\\r\\n`` (the HTML standard), while text written by code, the
    demo or an import has ``\\n``: normalised at the input, a text saved unchanged equals
    what is stored (so the audit log records only real changes) and no text mixes both."""

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return normalize_newlines(value) if isinstance(value, str) else value
