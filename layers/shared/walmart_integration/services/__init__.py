"""Use cases. They receive repositories and clients as values; no boto3 or httpx types leak in here."""
