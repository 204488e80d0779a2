"""The one way a family is told anything (NTF-1…NTF-4): :func:`.services.notify_family`
chooses the channels — e-mail, text messages through the company's Twilio account — from the
kind, the company's set-up and the parent's choices, and writes one outbox message per
channel and recipient in the caller's transaction."""
