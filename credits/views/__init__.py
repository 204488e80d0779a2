"""Back-office pages of credits, a module per page group: policies, credits, claims, reports
(the parents' pages are the portal's)."""
