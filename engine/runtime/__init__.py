"""Where the pure engine meets the database and the outbox: one event, one transaction."""
