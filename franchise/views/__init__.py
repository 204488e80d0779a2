"""Back-office pages of the franchise, one module per page group (listed in
``franchise.urls``): partner companies and the answer page of an e-mailed invitation
(``links``, FRN-1), incoming restrictions (``restrictions``, FRN-3) and the partner report
(``reports``, FRN-8). Only owners manage links and their terms; the report is for admins
too (TEN-2)."""
