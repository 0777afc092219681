"""Walmart sandbox emulator: Marketplace token, ship nodes, orders and items (Connect ads to come).

    from local.emulator import Emulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    em = Emulator(seed=0)
    url = em.start(host="127.0.0.1", port=0)
    em.add_seller("id", "secret", "555", item_count=5000, order_count=20000, order_days=170)
    em.update_order("555", po, status="Shipped")      # bumps lastModified
    em.add_orders("555", 10)
    em.faults.update({"malformed_record_rate": 0.05, "duplicate_item_rate": 0.3})
    ...
    em.stop()

Routes: marketplace.py (token, ship nodes, the gateway decorator), orders.py (GET /v3/orders,
GET /v3/orders/{purchaseOrderId}), items.py (GET /v3/items, GET /v3/items/{sku}); data:
datagen.py (generation, rendering) and records.py (per-seller store); knobs: state.Faults;
control endpoints: control.py.

Standalone: ``python -m local.emulator --port 8081 --seed 0``.
"""

from .app import Emulator, create_app
from .state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SELLER_ID,
    CallRecord,
    EmulatorState,
    Faults,
    IssuedToken,
    Seller,
)

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SELLER_ID",
    "CallRecord",
    "Emulator",
    "EmulatorState",
    "Faults",
    "IssuedToken",
    "Seller",
    "create_app",
]
