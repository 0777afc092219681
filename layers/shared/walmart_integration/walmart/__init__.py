"""Clients for Walmart's APIs (httpx). Only this package talks to Walmart."""
