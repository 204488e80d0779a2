"""Pages of the make-up: the staff pages (the parents' pages are the portal's)."""
