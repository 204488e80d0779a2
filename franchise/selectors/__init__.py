"""Reads of the franchise (split by concept): company links and incoming restrictions for the
franchise pages (``links``), make-ups across companies — the partner rules, candidates and
guest contacts, registered as hooks of the lower apps (``partners``) — and the partner
report (``reports``)."""
