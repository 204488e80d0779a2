"""Reads for the parent portal's pages and the back-office pages it hosts, one module per
concept: the family's lessons, credits and absences (``family``), the make-up search
(``search``), the amount a payment asks for (``payments``), the owners' audit log
(``audit``) and the private calendar feeds (``feeds``). No rules here: they live in the
lower apps."""
