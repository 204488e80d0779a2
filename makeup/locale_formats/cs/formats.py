"""Czech named formats (DAY-4): "8. prosince 2026", "út 8. prosince, 17:00",
"Úterý 8. prosince". A dot after the day number, the month in the genitive ("E"), the
weekday abbreviation lowercase as Czech writes it ("D")."""

DAY_FORMAT = "j. E Y"
DAY_MONTH_FORMAT = "j. E"
DAY_TIME_FORMAT = "j. E, H:i"
DAY_YEAR_TIME_FORMAT = "j. E Y, H:i"
WEEKDAY_FORMAT = "D j. E"
WEEKDAY_YEAR_FORMAT = "D j. E Y"
WEEKDAY_TIME_FORMAT = "D j. E, H:i"
WEEKDAY_YEAR_TIME_FORMAT = "D j. E Y, H:i"
# The full weekday name starts a heading or a line: Django writes it capitalised.
LONG_WEEKDAY_FORMAT = "l j. E"
LONG_WEEKDAY_TIME_FORMAT = "l j. E, H:i"
LONG_WEEKDAY_YEAR_TIME_FORMAT = "l j. E Y, H:i"
# Inside a sentence ("vyprší 8. prosince 2026 v 17:00"): no capitalised weekday.
TEXT_DATETIME_FORMAT = "j. E Y \\v H:i"
