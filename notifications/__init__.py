"""Mail: rendering from templates, the outbox, and delivery."""
