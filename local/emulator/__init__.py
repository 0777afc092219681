"""Walmart sandbox emulator (Marketplace now; orders, items and Connect ads to come).

    from local.emulator import Emulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    em = Emulator(seed=0)
    url = em.start(host="127.0.0.1", port=0)
    ...
    em.stop()

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
