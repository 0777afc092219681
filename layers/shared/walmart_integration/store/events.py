"""EventBridge adapter: publishes domain events on the deployment's bus (downstream connectors subscribe)."""

from __future__ import annotations

import json
from typing import Any

from walmart_integration.store.base import AwsAdapter


class EventPublisher(AwsAdapter):
    service = "events"

    def __init__(self, bus_name: str, region: str, client: Any | None = None) -> None:
        super().__init__(region, client)
        self.bus_name = bus_name

    def publish(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the {detail_type} event: {response['Entries'][0]}")
