"""Per-language date formats (settings.FORMAT_MODULE_PATH), DAY-4.

Besides Django's own names (DATE_FORMAT, YEAR_MONTH_FORMAT…), each language module defines
the named formats the pages and e-mails use, e.g. ``{{ d|date:"DAY_FORMAT" }}`` or
``date_format(d, "WEEKDAY_TIME_FORMAT")``. English keeps "Tue 8 Dec 2026"; Czech writes
"út 8. prosince 2026" (a dot after the day, the month in the genitive: Django's "E").
Every name must exist in every language module: an unknown name is used as the format
string itself."""
