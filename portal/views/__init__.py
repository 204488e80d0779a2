"""Pages of the portal app, one module per page group: the parents' pages under
/portal/<company>/ (``home``, ``makeups``, ``account``, ``payments``, ``claims``,
``reminders``, ``slots``, giving a credit to a sibling in ``wallet``, the family's calendar
link in ``feeds``) and the back-office pages
the portal hosts (``audit``, the staff member's calendar in ``feeds``), all listed in
``portal.urls``; and the few ``config.urls`` mounts itself (the landing page and the new
confirmation link in ``account``, the .ics feeds in ``feeds``, the payment webhook in
``payments``)."""
