"""Walmart sandbox emulator: Marketplace (token, ship nodes, orders, items) and Connect (advertising).

    from local.emulator import Emulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    em = Emulator(seed=0)
    url = em.start(host="127.0.0.1", port=0)
    em.add_seller("id", "secret", "555", item_count=5000, order_count=20000, order_days=170)
    em.update_order("555", po, status="Shipped")      # bumps lastModified
    em.update_order("555", po, status="Cancelled", line="1", quantity=1)   # one unit of line 1
    em.add_orders("555", 10)
    em.faults.update({"malformed_record_rate": 0.05, "duplicate_item_rate": 0.3})

    pair = generate_partner()                          # Connect: an API partner (RSA key pair + token)
    em.configure_partner(pair.consumer_id, pair.key_version, pair.public_key_pem, pair.auth_token)
    em.seed_demo_advertisers()                         # 600001 1p, 600002 3p (demo seller), 600003 read-only
    em.connect_faults.update({"report_processing_seconds": 600, "hourly_operations": 500})
    em.revoke_advertiser(600001); em.restate(600002, days=14)
    ...
    em.stop()

Routes: marketplace.py (token, ship nodes, the gateway decorator), orders.py (GET /v3/orders,
GET /v3/orders/{purchaseOrderId}), items.py (GET /v3/items, GET /v3/items/{sku}), reports.py (on-request
reports: the ITEM report, its polls and its zipped CSV), connect.py
(Connect: signed partner calls, insight and report snapshots, files, campaigns, keywords); data:
datagen.py (generation, rendering), records.py (per-seller store), connect_state.py (partner,
advertisers, snapshots, operations budget); knobs: state.Faults, connect_state.ConnectFaults;
partner keys: connect_keys.py; control endpoints: control.py.

Standalone: ``python -m local.emulator --port 8081 --seed 0``.
"""

from .app import Emulator, create_app
from .connect_keys import PartnerKeyPair, generate_partner, signed_headers
from .connect_state import DEMO_ADVERTISERS, ConnectFaults, ConnectState
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
    "DEMO_ADVERTISERS",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SELLER_ID",
    "CallRecord",
    "ConnectFaults",
    "ConnectState",
    "Emulator",
    "EmulatorState",
    "Faults",
    "IssuedToken",
    "PartnerKeyPair",
    "Seller",
    "create_app",
    "generate_partner",
    "signed_headers",
]
