"""Pydantic models: API bodies, domain records, queue messages."""
