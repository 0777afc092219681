"""Deterministic sandbox data, shaped like the example payloads in docs/walmart/examples.

Every generator takes its own ``random.Random`` built from (seed, purpose, seller), so the data
of one seller does not depend on the order of calls or on other sellers.

Orders are generated compactly (:class:`OrderRecord`: ids, dates, ship node, per-line sku,
quantity and status) and rendered to Walmart's JSON only when served (:func:`render_order`), from a
per-order seed: 20,000 orders take a fraction of a second. Everything a client filters on
(dates, status, sku, ship node type) lives in the record; the rest (customer, address, taxes,
tracking numbers) is drawn at render time from a fixed number of draws, so a status change does
not shift any other field.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
import zlib
from dataclasses import dataclass, field
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


# --- items (GET /v3/items) ---------------------------------------------------------------------

_PRODUCT_TYPES: list[tuple[str, str, tuple[str, ...]]] = [
    # productType, department (shelf), base names
    ("T-Shirts", "Clothing", ("Crew Neck T-Shirt", "V-Neck Tee", "Pocket T-Shirt", "Long Sleeve Tee")),
    ("Jeans", "Clothing", ("Slim Fit Jeans", "Relaxed Denim Jeans", "Bootcut Jeans")),
    ("Coffee Makers", "Home", ("12-Cup Coffee Maker", "Single Serve Brewer", "Pour Over Coffee Set")),
    ("Cookware Sets", "Home", ("Nonstick Cookware Set, 10 Piece", "Stainless Steel Saucepan", "Cast Iron Skillet")),
    ("Shot Glasses", "Home", ("Shot Glasses, Set of 6", "Heavy Base Shot Glass")),
    ("Board Games", "Toys", ("Family Strategy Board Game", "Cooperative Puzzle Game", "Word Party Game")),
    ("Action Figures", "Toys", ("Space Ranger Action Figure", "Dinosaur Figure Pack", "Robot Hero Figure")),
    ("Headphones", "Electronics", ("Wireless Over-Ear Headphones", "Noise Cancelling Earbuds", "Kids Headphones")),
    ("Cell Phone Cases", "Electronics", ("Shockproof Phone Case", "Clear Slim Phone Case", "Wallet Phone Case")),
    ("Vitamins", "Health", ("Vitamin D3 Softgels, 120 Count", "Daily Multivitamin Gummies", "Vitamin C 1000 mg")),
    ("Dog Food", "Pets", ("Grain Free Dry Dog Food, 24 lb", "Puppy Chicken Recipe, 5 lb", "Senior Dog Formula")),
    ("Baby Carriers", "Baby", ("Adjustable Infant Carrier", "Baby Sling Wrap", "Hip Seat Carrier")),
]
_BRANDS = ("Acme", "Northwind", "Bluebird", "Summit", "Harbor & Co", "Evergreen", "Lumen", "Kestrel", "Maple Lane")
_COLORS = ("Black", "White", "Blue", "Red", "Green", "Gray", "Navy", "Pink", "Purple", "Khaki")
_UNPUBLISHED_REASONS = (
    "Tax code information was not added during item setup. Resubmit your item with a valid tax code.",
    "An internal error occurred while publishing this item. Resubmit the item.",
    "No price was found for this listing.",
    "Shipping information was not added. Resubmit this item with a shipping price if you are submitting an override.",
)
_WPID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _upc(rng: random.Random) -> str:
    """A 12-digit UPC-A with a valid check digit."""
    digits = [rng.randrange(10) for _ in range(11)]
    odd = sum(digits[0::2]) * 3 + sum(digits[1::2])
    return "".join(map(str, digits)) + str((10 - odd % 10) % 10)


def make_item(rng: random.Random, index: int, seen: set[str]) -> JsonDict:
    """One ``ItemResponse`` entry, keys in the order of Walmart's example."""
    product_type, department, bases = rng.choice(_PRODUCT_TYPES)
    brand, color, base = rng.choice(_BRANDS), rng.choice(_COLORS), rng.choice(bases)
    upc = _upc(rng)
    gtin = "00" + upc
    style = rng.random()
    if style < 0.4:
        sku = f"SKU-{gtin}"
    elif style < 0.8:
        sku = f"{brand[:3].upper()}-{product_type[:3].upper()}-{index + 1:05d}-{color[:3].upper()}"
    else:
        sku = f"{rng.getrandbits(40):010x}_{color.lower()}"
    while sku in seen:
        sku = f"{sku}-{rng.randrange(10)}"
    seen.add(sku)
    wpid = "".join(rng.choice(_WPID_ALPHABET) for _ in range(12))
    price: float | int = round(rng.randrange(2, 150) - 0.01, 2) if rng.random() < 0.7 else rng.randrange(3, 200)
    roll = rng.random()
    published = (
        "PUBLISHED"
        if roll < 0.8
        else "UNPUBLISHED"
        if roll < 0.95
        else rng.choice(("IN_PROGRESS", "SYSTEM_PROBLEM", "READY_TO_PUBLISH"))
    )
    roll = rng.random()
    lifecycle = "ACTIVE" if roll < 0.9 else "ARCHIVED" if roll < 0.97 else "RETIRED"
    has_upc = rng.random() < 0.8
    item: JsonDict = {
        "mart": "WALMART_US",
        "sku": sku,
        "condition": "New",
        "availability": "In_stock" if rng.random() < 0.9 else "Out_of_stock",
        "wpid": wpid,
        "upc": upc if has_upc else "",
        "gtin": gtin,
        "productName": f"{brand} {base} - {color}",
        "shelf": (
            json.dumps(["Home Page", department, product_type], separators=(",", ":"))
            if published == "PUBLISHED"
            else '["UNNAV"]'
        ),
        "productType": product_type,
        "price": {"currency": "USD", "amount": price},
        "publishedStatus": published,
    }
    reasons = sorted(rng.sample(range(len(_UNPUBLISHED_REASONS)), rng.randint(1, 3)))
    if published == "UNPUBLISHED":
        item["unpublishedReasons"] = {"reason": [_UNPUBLISHED_REASONS[i] for i in reasons]}
    item["lifecycleStatus"] = lifecycle
    item["isDuplicate"] = False
    return item


def make_items(seed: int, seller_id: str, count: int) -> list[JsonDict]:
    """The seller's catalogue: ``count`` items with unique skus, in a stable order."""
    rng = rng_for(seed, "items", seller_id)
    seen: set[str] = set()
    return [make_item(rng, i, seen) for i in range(count)]


# --- orders (GET /v3/orders) -------------------------------------------------------------------

ORDER_LINE_STATUSES = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled", "Refund")
SHIP_NODE_TYPES = ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled")
SHIPPED_STATUSES = frozenset({"Shipped", "Delivered", "Refund"})

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

_METHOD_CODES = (("Value", 0.55), ("Standard", 0.85), ("Express", 0.95), ("OneDay", 1.0))
_SHIP_METHODS = {"Value": "VALUE", "Standard": "STANDARD", "Express": "EXPEDITED", "OneDay": "RUSH"}
_FIRST_NAMES = ("Kathryn", "Steffen", "Vivian", "Donald", "Maria", "James", "Aisha", "Chen", "Olivia", "Diego")
_LAST_NAMES = ("Cole", "Matt", "Katzaroff", "Ashley", "Garcia", "Smith", "Khan", "Wei", "Brown", "Lopez")
_STREETS = ("Mason St", "Warners Rd", "Bay Dr", "Gazebo Drive", "Stonedale Dr", "Oak Ave", "Maple St", "Pine Ct")
_CITIES = (
    ("San Francisco", "CA", "94133"),
    ("Warners", "NY", "13164"),
    ("Miami Beach", "FL", "33141"),
    ("Cedar Hill", "MO", "63016"),
    ("Pleasanton", "CA", "94588"),
    ("Austin", "TX", "78717"),
    ("Seattle", "WA", "98101"),
    ("Chicago", "IL", "60614"),
)
_TAX_RATES = (0.0, 0.04, 0.0625, 0.07, 0.0725, 0.08, 0.0825, 0.0875)
_CARRIERS_TRACKING = ("UPS", "USPS", "FedEx")
_CANCEL_REASONS = (
    "CUSTOMER_REQUESTED_SELLER_TO_CANCEL",
    "SELLER_CANCEL_OUT_OF_STOCK",
    "SELLER_CANCEL_FRAUD_STOP_SHIPMENT",
)
_REFUND_REASONS = ("ItemNotReceivedByCustomer", "DamagedItem", "CustomerChangedMind", "IncorrectItemReceived")


@dataclass(slots=True)
class OrderLineRecord:
    number: str  # lineNumber, "1", "2", ...
    sku: str
    quantity: int
    status: str  # one of ORDER_LINE_STATUSES: the status of every unit not in ``others``
    status_ms: int  # statusDate
    ship_ms: int = 0  # when it shipped (0: never): trackingInfo.shipDateTime
    # units in other statuses than ``status`` (one unit shipped, one cancelled: {"Cancelled": 1}); Walmart lists
    # each status with its statusQuantity (order spec, components.schemas.OrderLineStatusType)
    others: dict[str, int] = field(default_factory=dict)

    @property
    def main_quantity(self) -> int:
        return self.quantity - sum(self.others.values())

    def unit_statuses(self) -> list[tuple[str, int]]:
        """(status, units) of the line, the main status first, none with zero units."""
        pairs = [(self.status, self.main_quantity), *self.others.items()]
        return [(status, units) for status, units in pairs if units > 0]

    def set_status(self, status: str, now_ms: int, units: int | None = None) -> None:
        """Every unit (``units`` None) or ``units`` of the units in the main status move to ``status``."""
        if units is None or (units >= self.quantity and not self.others):
            self.status, self.others = status, {}
        else:
            if not 0 < units <= self.main_quantity:
                raise ValueError(f"line {self.number} has {self.main_quantity} unit(s) in {self.status}, not {units}")
            if status != self.status:
                self.others[status] = self.others.get(status, 0) + units
            if self.main_quantity == 0:  # every unit left the main status: the largest other one becomes it
                main = max(self.others, key=lambda name: self.others[name])
                self.status = main
                del self.others[main]
        self.status_ms = now_ms
        if (status in SHIPPED_STATUSES or self.status in SHIPPED_STATUSES) and not self.ship_ms:
            self.ship_ms = now_ms


@dataclass(slots=True)
class OrderRecord:
    """What the emulator keeps of an order; :func:`render_order` makes the JSON."""

    purchase_order_id: str
    customer_order_id: str
    created_ms: int  # orderDate
    ship_node_type: str  # SellerFulfilled | WFSFulfilled | 3PLFulfilled
    ship_node_index: int  # index into the seller's ship nodes, -1: none
    method_code: str
    detail_seed: int
    lines: list[OrderLineRecord] = field(default_factory=list)
    last_modified_ms: int = 0  # not in the body; lastModifiedStartDate/EndDate filter on it
    # a replacement order: served only to queries with replacementInfo=true (order spec, GET /v3/orders, orderType)
    is_replacement: bool = False

    def touch(self, now_ms: int) -> None:
        self.last_modified_ms = max(self.last_modified_ms, now_ms)

    def meta(self) -> JsonDict:
        return {
            "purchaseOrderId": self.purchase_order_id,
            "customerOrderId": self.customer_order_id,
            "orderDate": self.created_ms,
            "lastModified": self.last_modified_ms,
            "shipNodeType": self.ship_node_type,
            "orderType": "REPLACEMENT" if self.is_replacement else "REGULAR",
            "lines": [
                {
                    "lineNumber": ln.number,
                    "sku": ln.sku,
                    "status": ln.status,
                    "statuses": [{"status": s, "quantity": q} for s, q in ln.unit_statuses()],
                }
                for ln in self.lines
            ],
        }


def node_indices(ship_nodes: list[JsonDict]) -> dict[str, list[int]]:
    """Which of the seller's ship nodes each ship node type draws from (all of them if none fits)."""
    everything = list(range(len(ship_nodes)))
    own = [i for i, n in enumerate(ship_nodes) if n.get("nodeType") in ("PHYSICAL", "VIRTUAL")]
    third = [i for i, n in enumerate(ship_nodes) if n.get("nodeType") == "3PL"]
    return {"SellerFulfilled": own or everything, "WFSFulfilled": everything, "3PLFulfilled": third or everything}


def _pick_status(rng: random.Random, age_ms: int) -> str:
    roll = rng.random()
    if roll < 0.05:
        return "Cancelled"
    if age_ms < DAY_MS:
        return "Created" if roll < 0.6 else "Acknowledged"
    if age_ms < 3 * DAY_MS:
        return "Acknowledged" if roll < 0.3 else "Shipped"
    if age_ms < 7 * DAY_MS:
        return "Shipped" if roll < 0.45 else "Delivered"
    return "Delivered" if roll < 0.92 else "Refund"


def make_order(
    rng: random.Random,
    purchase_order_id: str,
    created_ms: int,
    now_ms: int,
    skus: list[str],
    nodes: dict[str, list[int]],
    *,
    status: str | None = None,
) -> OrderRecord:
    """One order created at ``created_ms``; its lines' statuses fit its age at ``now_ms``."""
    roll = rng.random()
    node_type = "SellerFulfilled" if roll < 0.8 else "WFSFulfilled" if roll < 0.92 else "3PLFulfilled"
    candidates = nodes[node_type]
    node_index = candidates[rng.randrange(len(candidates))] if candidates else -1
    roll = rng.random()
    method = next(code for code, bound in _METHOD_CODES if roll < bound)
    roll = rng.random()
    line_count = 1 if roll < 0.7 else 2 if roll < 0.9 else 3 if roll < 0.97 else 4
    order_status = status or _pick_status(rng, now_ms - created_ms)
    # the moments each status was reached (capped at now)
    ack = created_ms + rng.randint(10 * MINUTE_MS, 6 * HOUR_MS)
    ship = created_ms + rng.randint(12 * HOUR_MS, 48 * HOUR_MS)
    delivered = ship + rng.randint(DAY_MS, 4 * DAY_MS)
    refunded = delivered + rng.randint(DAY_MS, 8 * DAY_MS)
    cancelled = created_ms + rng.randint(30 * MINUTE_MS, DAY_MS)
    moments = {
        "Created": created_ms,
        "Acknowledged": ack,
        "Shipped": ship,
        "Delivered": delivered,
        "Refund": refunded,
        "Cancelled": cancelled,
    }
    partial_cancel = line_count > 1 and rng.random() < 0.15
    lines: list[OrderLineRecord] = []
    for i in range(line_count):
        sku = skus[rng.randrange(len(skus))]
        roll = rng.random()
        quantity = 1 if roll < 0.85 else 2 if roll < 0.95 else 3
        line_status = "Cancelled" if partial_cancel and i == line_count - 1 else order_status
        when = max(created_ms, min(now_ms, moments[line_status]))
        shipped = max(created_ms, min(now_ms, ship)) if line_status in SHIPPED_STATUSES else 0
        lines.append(OrderLineRecord(str(i + 1), sku, quantity, line_status, when, shipped))
    record = OrderRecord(
        purchase_order_id=purchase_order_id,
        customer_order_id=str(rng.randrange(10**14, 10**15)),
        created_ms=created_ms,
        ship_node_type=node_type,
        ship_node_index=node_index,
        method_code=method,
        detail_seed=rng.getrandbits(63),
        lines=lines,
    )
    for line in lines:
        split_units(line, purchase_order_id)
    record.last_modified_ms = max(line.status_ms for line in lines)
    record.is_replacement = stable_fraction(purchase_order_id, "replacement") < REPLACEMENT_SHARE
    return record


REPLACEMENT_SHARE = 0.03  # orders that are replacements of an earlier order (orderType REPLACEMENT)


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by its parts (no draw from a generator: the other fields do not shift)."""
    return zlib.crc32(":".join(map(str, parts)).encode()) / 2**32


def split_units(line: OrderLineRecord, purchase_order_id: str) -> None:
    """Some lines of several units have units in another status, as Walmart lists them with their quantities:
    one shipped and one cancelled (out of stock), or one of a delivered pair refunded."""
    if line.quantity < 2:
        return
    draw = stable_fraction(purchase_order_id, line.number, "split")
    if line.status in ("Shipped", "Delivered") and draw < 0.2:
        line.others = {"Cancelled": 1}
    elif line.status == "Delivered" and draw < 0.3:
        line.others = {"Refund": 1}
    elif line.status in ("Created", "Acknowledged") and draw < 0.1:
        line.others = {"Cancelled": 1}


def new_purchase_order_id(rng: random.Random, seen: set[str]) -> str:
    while True:
        po = str(rng.randrange(10**14, 10**15))
        if po not in seen:
            seen.add(po)
            return po


def fallback_skus(seller_id: str) -> list[str]:
    """Skus for orders of a seller without a catalogue."""
    return [f"SKU-{seller_id}-{i:03d}" for i in range(1, 11)]


def make_orders(
    seed: int,
    seller_id: str,
    *,
    anchor_ms: int,
    count: int,
    days: float,
    skus: list[str],
    ship_nodes: list[JsonDict],
    seen: set[str],
) -> list[OrderRecord]:
    """``count`` orders created over the ``days`` before ``anchor_ms`` (epoch ms), newest first."""
    rng = rng_for(seed, "orders", seller_id)
    nodes = node_indices(ship_nodes)
    skus = skus or fallback_skus(seller_id)
    span = max(1, int(days * DAY_MS))
    orders = [
        make_order(rng, new_purchase_order_id(rng, seen), anchor_ms - rng.randrange(span), anchor_ms, skus, nodes)
        for _ in range(count)
    ]
    orders.sort(key=order_sort_key)
    return orders


def order_sort_key(order: OrderRecord) -> tuple[int, str]:
    """Newest first; ties broken by purchaseOrderId (a stable order for offset paging)."""
    return (-order.created_ms, order.purchase_order_id)


# --- rendering ---------------------------------------------------------------------------------


def _money(amount: float) -> JsonDict:
    return {"currency": "USD", "amount": round(amount, 2)}


def _tax(amount: float) -> JsonDict:
    return {"taxName": "Tax1", "taxAmount": _money(amount)}


def _charge(charge_type: str, name: str, amount: float, tax: float) -> JsonDict:
    return {
        "chargeType": charge_type,
        "chargeName": name,
        "chargeAmount": _money(amount),
        "tax": _tax(tax),
        "taxAndOtherFees": _tax(tax),
    }


def _tracking_number(carrier: str, value: int) -> str:
    if carrier == "UPS":
        return f"1Z{value % 36**16:016X}"[:18]
    if carrier == "USPS":
        return f"9400{value % 10**18:018d}"
    return f"{value % 10**12:012d}"


def _unit_price(items_by_sku: dict[str, JsonDict], sku: str, fallback: float) -> float:
    item = items_by_sku.get(sku)
    amount = ((item or {}).get("price") or {}).get("amount")
    return float(amount) if isinstance(amount, (int, float)) and amount > 0 else fallback


def render_order(
    order: OrderRecord,
    *,
    items_by_sku: dict[str, JsonDict],
    ship_nodes: list[JsonDict],
    product_info: bool = False,
    replacement_info: bool = False,
) -> JsonDict:
    """The order as ``GET /v3/orders`` serves it (key order of Walmart's example)."""
    rng = random.Random(order.detail_seed)
    name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    street = f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}"
    city, state, postal = rng.choice(_CITIES)
    apartment = rng.randint(1, 400) if rng.random() < 0.3 else 0
    phone = str(rng.randint(2_000_000_000, 9_899_999_999))
    email = f"{rng.getrandbits(128):032X}@relay.walmart.com"
    est_ship = order.created_ms + rng.randint(1, 2) * DAY_MS
    est_delivery = est_ship + (1 if order.method_code == "OneDay" else rng.randint(2, 5)) * DAY_MS
    tax_rate = rng.choice(_TAX_RATES)
    shipping_fee = rng.choice((8.99, 12.99) if order.method_code in ("Express", "OneDay") else (0, 0, 0, 4.99, 5.99))
    carrier = rng.choice(_CARRIERS_TRACKING)
    tracking_base = rng.getrandbits(64)
    rng.random()  # drawn for the fixed sequence of draws; whether it is a replacement is the record's
    replacement = order.is_replacement
    original_order = str(rng.randrange(10**14, 10**15))

    body: JsonDict = {
        "purchaseOrderId": order.purchase_order_id,
        "customerOrderId": order.customer_order_id,
        "customerEmailId": email,
    }
    if replacement_info:
        body["orderType"] = "REPLACEMENT" if replacement else "REGULAR"
        if replacement:
            body["originalCustomerOrderID"] = original_order
    address: JsonDict = {"name": name, "address1": street}
    if apartment:
        address["address2"] = f"Apt {apartment}"
    address |= {"city": city, "state": state, "postalCode": postal, "country": "USA", "addressType": "RESIDENTIAL"}
    body["orderDate"] = order.created_ms
    body["shippingInfo"] = {
        "phone": phone,
        "estimatedDeliveryDate": est_delivery,
        "estimatedShipDate": est_ship,
        "methodCode": order.method_code,
        "postalAddress": address,
    }
    lines: list[JsonDict] = []
    for index, line in enumerate(order.lines):
        # a fixed number of draws per line, whatever its status
        fallback_price = round(rng.uniform(5, 60), 2)
        cancel_reason = rng.choice(_CANCEL_REASONS)
        refund_reason = rng.choice(_REFUND_REASONS)
        weight = round(rng.uniform(0.2, 12.0), 2)
        image = uuid.UUID(int=rng.getrandbits(128), version=4)
        unit_price = _unit_price(items_by_sku, line.sku, fallback_price)
        amount = round(unit_price * line.quantity, 2)
        tax = round(amount * tax_rate, 2)
        charges = [_charge("PRODUCT", "ItemPrice", amount, tax)]
        if index == 0 and shipping_fee:
            charges.append(_charge("SHIPPING", "Shipping", shipping_fee, round(shipping_fee * tax_rate, 2)))
        item_name = (items_by_sku.get(line.sku) or {}).get("productName") or f"Item {line.sku}"
        item: JsonDict = {"productName": item_name, "sku": line.sku}
        if product_info:
            item["imageUrl"] = f"https://i5.walmartimages.com/asr/{image}.jpeg"
            item["weight"] = {"value": str(weight), "unit": "Pounds"}
        quantity = {"unitOfMeasurement": "EACH", "amount": str(line.quantity)}
        statuses: list[JsonDict] = []
        for name, units in line.unit_statuses():
            status: JsonDict = {
                "status": name,
                "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(units)},
            }
            if name == "Cancelled":
                status["cancellationReason"] = cancel_reason
            if line.ship_ms and name in SHIPPED_STATUSES:
                number = _tracking_number(carrier, tracking_base + index)
                status["trackingInfo"] = {
                    "shipDateTime": line.ship_ms,
                    "carrierName": {"carrier": carrier},
                    "methodCode": order.method_code,
                    "trackingNumber": number,
                    "trackingURL": f"https://www.walmart.com/tracking?tracking_id={number}",
                }
            statuses.append(status)
        rendered: JsonDict = {
            "lineNumber": line.number,
            "item": item,
            "charges": {"charge": charges},
            "orderLineQuantity": quantity,
            "statusDate": line.status_ms,
            "orderLineStatuses": {"orderLineStatus": statuses},
        }
        refunded = dict(line.unit_statuses()).get("Refund", 0)
        if refunded:
            # the refunded units' share of the line's product charge and its tax
            refund_amount = amount if refunded == line.quantity else round(unit_price * refunded, 2)
            refund_tax = tax if refunded == line.quantity else round(refund_amount * tax_rate, 2)
            rendered["refund"] = {
                "refundId": f"{order.purchase_order_id}-{line.number}",
                "refundComments": "Refund issued by the seller",
                "refundCharges": {
                    "refundCharge": [
                        {
                            "refundReason": refund_reason,
                            "charge": {
                                "chargeType": "PRODUCT",
                                "chargeName": "ItemPrice",
                                "chargeAmount": _money(-refund_amount),
                                "tax": _tax(-refund_tax),
                            },
                        }
                    ]
                },
            }
        rendered["fulfillment"] = {
            "fulfillmentOption": "S2H",
            "shipMethod": _SHIP_METHODS.get(order.method_code, "VALUE"),
            "pickUpDateTime": est_delivery,
        }
        lines.append(rendered)
    body["orderLines"] = {"orderLine": lines}
    ship_node: JsonDict = {"type": order.ship_node_type}
    if 0 <= order.ship_node_index < len(ship_nodes):
        node = ship_nodes[order.ship_node_index]
        ship_node |= {"name": node.get("shipNodeName"), "id": node.get("shipNode")}
    body["shipNode"] = ship_node
    return body


# --- malformed records (the malformed_record_rate knob) ----------------------------------------


def record_fraction(seed: int, *parts: object) -> float:
    """A stable number in [0, 1) for a record: the same record always draws the same."""
    return zlib.crc32(":".join([str(seed), *map(str, parts)]).encode()) / 2**32


def malform_order(order: JsonDict, variant: int) -> JsonDict:
    """A broken copy of a rendered order, as messy real data arrives."""
    broken = dict(order)
    kind = variant % 4
    if kind == 0:
        broken.pop("purchaseOrderId", None)
    elif kind == 1:
        broken["orderLines"] = "ERR_ORDER_LINES_UNAVAILABLE"
    elif kind == 2:
        broken["orderDate"] = "not-a-date"
    else:
        lines = [dict(line) for line in broken["orderLines"]["orderLine"]]
        lines[0]["orderLineQuantity"] = {"unitOfMeasurement": "EACH", "amount": "one"}
        broken["orderLines"] = {"orderLine": lines}
    return broken


ONE_ELEMENT_LISTS = frozenset({"orderLine", "orderLineStatus", "charge", "refundCharge"})


def collapse_one_element_lists(value: Any) -> Any:
    """A copy in which every one-element list under ONE_ELEMENT_LISTS is the element itself, as JSON written from
    XML holds it (docs/walmart/FACTS.md, "Checked behaviours" 4)."""
    if isinstance(value, dict):
        collapsed = {}
        for key, inner in value.items():
            copy = collapse_one_element_lists(inner)
            one = key in ONE_ELEMENT_LISTS and isinstance(copy, list) and len(copy) == 1
            collapsed[key] = copy[0] if one else copy
        return collapsed
    if isinstance(value, list):
        return [collapse_one_element_lists(inner) for inner in value]
    return value


def malform_item(item: JsonDict, variant: int) -> JsonDict:
    broken = dict(item)
    kind = variant % 3
    if kind == 0:
        broken.pop("sku", None)
    elif kind == 1:
        broken["sku"] = None
    else:
        broken["price"] = {"currency": "USD", "amount": "N/A"}
    return broken
