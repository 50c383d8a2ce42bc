"""The `advies` command line."""
