"""Reads of the make-up (split by concept): the one eligibility function, the staff pages'
views of it, the e-mailed slot links."""
