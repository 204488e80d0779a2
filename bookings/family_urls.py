"""Families, parents and students in the back office (mounted under /manage/)."""

urlpatterns: list = []
