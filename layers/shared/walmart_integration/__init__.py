"""Shared layer of the Walmart integration service: config, observability, models, store, walmart, services."""
