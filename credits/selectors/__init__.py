"""Reads of credits (split by concept): the credits list and family panel, absence receipts,
policies and the on-time judgement, claims, reports, the policy simulator and the reminder
links."""
