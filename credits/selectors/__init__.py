"""Reads of credits (split by concept): the credits list and family panel, absence receipts,
policies and the on-time judgement, claims, reports, the policy simulator, the reminder
links and the carry-over into the next term."""
