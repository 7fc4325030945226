"""Intake: poll -> fetch -> parse -> (pages) -> store -> match -> queue. Feeds in, outbox rows out."""
