"""Deterministic sandbox data, shaped like the example payloads in /work/shared/walmart/examples.

Every generator takes its own ``random.Random`` built from (seed, purpose, seller), so the data
of one seller does not depend on the order of calls or on other sellers.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from typing import Any

JsonDict = dict[str, Any]


def rng_for(seed: int, *parts: object) -> random.Random:
    """A Random seeded from the seed and a purpose (str seeds hash with SHA-512: stable)."""
    return random.Random(":".join([str(seed), *map(str, parts)]))


# --- access tokens ----------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_access_token(rng: random.Random) -> str:
    """An opaque token shaped like Walmart's (a JWE compact string, ~850 chars)."""
    kid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    header = _b64url(json.dumps({"kid": kid, "enc": "A256GCM", "alg": "dir"}).encode())
    iv = _b64url(rng.randbytes(12))
    ciphertext = _b64url(rng.randbytes(540))
    tag = _b64url(rng.randbytes(16))
    return f"{header}..{iv}.{ciphertext}.{tag}"


# --- ship nodes (GET /v3/settings/shipping/shipnodes) -------------------------------------

_ADDRESSES: list[tuple[str, str, str, str, str]] = [
    # addressLine1, city, state, postalCode, timeZone
    ("1200 Industrial Pkwy", "Reno", "NV", "89502", "PST"),
    ("4500 Commerce Dr", "Columbus", "OH", "43219", "EST"),
    ("88 Harbor Blvd", "Carson", "CA", "90745", "PST"),
    ("2701 Distribution Way", "Dallas", "TX", "75241", "CST"),
    ("510 Logistics Ln", "Memphis", "TN", "38118", "CST"),
    ("17 Fulfillment Ct", "Allentown", "PA", "18109", "EST"),
    ("9000 W Warehouse Rd", "Phoenix", "AZ", "85043", "MST"),
    ("330 Depot St", "Savannah", "GA", "31408", "EST"),
    ("6120 Freight Ave", "Kent", "WA", "98032", "PST"),
    ("145 Crossdock Blvd", "Joliet", "IL", "60436", "CST"),
]
_3PL_NAMES = ["MP_Deliverr", "MP_ShipBob", "MP_Flexport", "MP_Red_Stag"]
_CARRIERS = ["FEDEX", "UPS", "USPS"]
_CUTOFFS = ["08:30", "11:00", "11:30", "14:00"]
_WEEKDAYS = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
]


def _calendar(rng: random.Random) -> JsonDict:
    schedule: JsonDict = {}
    saturday_open = rng.random() < 0.3
    for day in _WEEKDAYS:
        working = day not in ("sunday", "saturday") or (day == "saturday" and saturday_open)
        schedule[day] = (
            {"isWorkingDay": True, "cutOffTime": rng.choice(_CUTOFFS)} if working else {"isWorkingDay": False}
        )
    days_off = ["2030-12-24", "2030-12-25"] if rng.random() < 0.5 else []
    return {"standardProcessingSchedule": schedule, "additionalDaysOff": days_off}


def make_ship_node(rng: random.Random, node_type: str, index: int, *, active: bool) -> JsonDict:
    line1, city, state, postal, tz = rng.choice(_ADDRESSES)
    if node_type == "3PL":
        name = rng.choice(_3PL_NAMES)
        carrier = "3PL_CARRIER"
    elif node_type == "VIRTUAL":
        name = f"Virtual node {index + 1}"
        carrier = rng.choice(_CARRIERS)
    else:
        name = f"Seller {city} DC {index + 1}"
        carrier = rng.choice(_CARRIERS)
    services = ["TWO_DAY_DELIVERY"]
    if node_type == "PHYSICAL" and rng.random() < 0.3:
        services.append("ONE_DAY_DELIVERY")
    node: JsonDict = {
        "shipNode": str(rng.randrange(10**16, 10**17)),
        "nodeType": node_type,
        "shipNodeName": name,
        "status": "ACTIVE" if active else "INACTIVE",
        "timeZone": tz,
        "distributorSupportedServices": services,
    }
    if node_type == "PHYSICAL":
        node["customNodeId"] = f"{rng.getrandbits(32):08x}"
    node["postalAddress"] = {
        "addressLine1": line1,
        "city": city,
        "state": state,
        "country": "USA",
        "postalCode": postal,
    }
    node["shippingDetails"] = [{"twoDayShipping": [{"carrierMethodName": carrier, "carrierMethodType": "GROUND"}]}]
    node["calendarDayConfiguration"] = _calendar(rng)
    return node


def make_ship_nodes(seed: int, seller_id: str, count: int = 3) -> list[JsonDict]:
    """``count`` ship nodes for a seller: two PHYSICAL then a 3PL, further ones mixed.

    The first node is always ACTIVE. ``calendarDayConfiguration`` is stored and only served
    with ``includeCalendarDayConfiguration=true``, as Walmart does.
    """
    rng = rng_for(seed, "shipnodes", seller_id)
    nodes: list[JsonDict] = []
    for i in range(count):
        if i < 2:
            node_type = "PHYSICAL"
        elif i == 2:
            node_type = "3PL"
        else:
            node_type = rng.choice(["PHYSICAL", "VIRTUAL", "3PL"])
        active = i == 0 or rng.random() < 0.7
        nodes.append(make_ship_node(rng, node_type, i, active=active))
    return nodes
