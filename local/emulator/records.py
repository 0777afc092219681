"""A seller's catalogue and orders: generated lazily, filtered, mutated by test helpers.

Nothing is generated until first needed (a GET, :meth:`SellerRecords.ensure`, a helper), then
once, from (seed, seller id, sizes, ship nodes, the moment the seller was added): deterministic.
Callers hold the emulator's state lock; this class does no locking of its own.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from .datagen import (
    DAY_MS,
    ORDER_LINE_STATUSES,
    SHIPPED_STATUSES,
    JsonDict,
    OrderRecord,
    fallback_skus,
    make_items,
    make_order,
    make_orders,
    new_purchase_order_id,
    node_indices,
    order_sort_key,
    render_order,
    rng_for,
)

DEFAULT_ITEM_COUNT = 60
DEFAULT_ORDER_COUNT = 300
DEFAULT_ORDER_DAYS = 90.0


@dataclass(frozen=True)
class OrderFilter:
    """A ``GET /v3/orders`` query, dates as epoch ms (bounds inclusive, None: unbounded)."""

    created_from: int
    created_to: int
    modified_from: int | None = None
    modified_to: int | None = None
    ship_node_type: str = "SellerFulfilled"
    status: str | None = None
    sku: str | None = None
    purchase_order_id: str | None = None
    customer_order_id: str | None = None
    # "Replacement orders appear only if replacementInfo is true" (order spec, GET /v3/orders, orderType)
    replacement_info: bool = False
    order_type: str | None = None  # REGULAR | REPLACEMENT | PREORDER

    def matches(self, order: OrderRecord) -> bool:
        if order.ship_node_type != self.ship_node_type:
            return False
        if order.is_replacement and not self.replacement_info:
            return False
        if self.order_type is not None and ("REPLACEMENT" if order.is_replacement else "REGULAR") != self.order_type:
            return False
        if self.modified_from is not None and order.last_modified_ms < self.modified_from:
            return False
        if self.modified_to is not None and order.last_modified_ms > self.modified_to:
            return False
        if self.purchase_order_id is not None and order.purchase_order_id != self.purchase_order_id:
            return False
        if self.customer_order_id is not None and order.customer_order_id != self.customer_order_id:
            return False
        if self.status is not None and all(self.status not in dict(line.unit_statuses()) for line in order.lines):
            return False
        return self.sku is None or any(line.sku == self.sku for line in order.lines)


class SellerRecords:
    def __init__(
        self,
        seed: int,
        seller_id: str,
        *,
        anchor_ms: int,
        ship_nodes: list[JsonDict],
        item_count: int = DEFAULT_ITEM_COUNT,
        order_count: int = DEFAULT_ORDER_COUNT,
        order_days: float = DEFAULT_ORDER_DAYS,
    ) -> None:
        if item_count < 0 or order_count < 0:
            raise ValueError("item_count and order_count must be >= 0")
        if order_days <= 0:
            raise ValueError("order_days must be > 0")
        self.seed = seed
        self.seller_id = seller_id
        self.anchor_ms = anchor_ms
        self.ship_nodes = ship_nodes
        self.item_count = item_count
        self.order_count = order_count
        self.order_days = order_days
        self.added_orders = 0
        self._items: list[JsonDict] | None = None
        self._items_by_sku: dict[str, JsonDict] = {}
        self._orders: list[OrderRecord] = []  # newest first (order_sort_key)
        self._by_po: dict[str, OrderRecord] = {}
        self._po_seen: set[str] = set()

    # -- generation -------------------------------------------------------------------------
    @property
    def generated(self) -> bool:
        return self._items is not None

    def ensure(self) -> None:
        """Generate the catalogue and the orders now (idempotent)."""
        if self._items is not None:
            return
        items = make_items(self.seed, self.seller_id, self.item_count)
        self._items_by_sku = {item["sku"]: item for item in items}
        skus = [item["sku"] for item in items if item.get("lifecycleStatus") == "ACTIVE"] or list(self._items_by_sku)
        self._orders = make_orders(
            self.seed,
            self.seller_id,
            anchor_ms=self.anchor_ms,
            count=self.order_count,
            days=self.order_days,
            skus=skus,
            ship_nodes=self.ship_nodes,
            seen=self._po_seen,
        )
        self._by_po = {order.purchase_order_id: order for order in self._orders}
        self._items = items

    def summary(self) -> JsonDict:
        return {
            "item_count": self.item_count,
            "order_count": self.order_count + self.added_orders,
            "order_days": self.order_days,
        }

    # -- items ------------------------------------------------------------------------------
    @property
    def items(self) -> list[JsonDict]:
        self.ensure()
        assert self._items is not None
        return self._items

    @property
    def items_by_sku(self) -> dict[str, JsonDict]:
        self.ensure()
        return self._items_by_sku

    def select_items(self, filters: dict[str, str]) -> list[JsonDict]:
        """Items matching exact-value filters (sku, gtin, upc, lifecycleStatus, ...), catalogue order."""
        items = self.items
        if not filters:
            return items
        if set(filters) == {"sku"}:
            found = self.items_by_sku.get(filters["sku"])
            return [found] if found else []
        return [item for item in items if all(str(item.get(k)) == v for k, v in filters.items())]

    # -- orders -----------------------------------------------------------------------------
    @property
    def orders(self) -> list[OrderRecord]:
        self.ensure()
        return self._orders

    def order(self, purchase_order_id: str) -> OrderRecord | None:
        self.ensure()
        return self._by_po.get(purchase_order_id)

    def select_orders(self, query: OrderFilter) -> list[OrderRecord]:
        """Orders matching ``query``, newest first."""
        orders = self.orders
        if query.created_from > query.created_to:
            return []
        # orders are sorted by -created_ms: bisect the creation window, then filter it
        lo = bisect.bisect_left(orders, -query.created_to, key=lambda o: -o.created_ms)
        hi = bisect.bisect_right(orders, -query.created_from, key=lambda o: -o.created_ms)
        if query.purchase_order_id is not None:
            found = self._by_po.get(query.purchase_order_id)
            window: Iterable[OrderRecord] = (
                [found] if found and query.created_from <= found.created_ms <= query.created_to else []
            )
        else:
            window = orders[lo:hi]
        return [order for order in window if query.matches(order)]

    def add_orders(self, count: int, now_ms: int, status: str = "Created") -> list[OrderRecord]:
        """``count`` new orders created at ``now_ms`` (lastModified now too)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        if status not in ORDER_LINE_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ORDER_LINE_STATUSES)}")
        self.ensure()
        rng = rng_for(self.seed, "orders-added", self.seller_id, self.added_orders)
        skus = [item["sku"] for item in self.items if item.get("lifecycleStatus") == "ACTIVE"] or list(
            self._items_by_sku
        )
        skus = skus or fallback_skus(self.seller_id)
        nodes = node_indices(self.ship_nodes)
        new = []
        for _ in range(count):
            po = new_purchase_order_id(rng, self._po_seen)
            order = make_order(rng, po, now_ms, now_ms, skus, nodes, status=status)
            for line in order.lines:
                line.status, line.status_ms, line.others = status, now_ms, {}
                line.ship_ms = now_ms if status in SHIPPED_STATUSES else 0
            order.last_modified_ms = now_ms
            order.is_replacement = False  # what a test adds is an ordinary order
            new.append(order)
            self._by_po[order.purchase_order_id] = order
        self._orders.extend(new)
        self._orders.sort(key=order_sort_key)
        self.added_orders += count
        return new

    def update_order(
        self,
        purchase_order_id: str,
        status: str,
        now_ms: int,
        line: str | int | Iterable[str | int] | None = None,
        quantity: int | None = None,
    ) -> OrderRecord:
        """Set the status of one line (``line``: its lineNumber), several, or all (None); with ``quantity``, of
        that many units of each (taken from the units in the line's main status; the others keep theirs).

        statusDate and the order's lastModified become ``now_ms``; a line reaching Shipped or
        Delivered without a ship date gets one (trackingInfo appears). Raises KeyError for an
        unknown order or line, ValueError for an unknown status or more units than the line holds.
        """
        if status not in ORDER_LINE_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ORDER_LINE_STATUSES)}")
        order = self.order(purchase_order_id)
        if order is None:
            raise KeyError(f"no order {purchase_order_id} for seller {self.seller_id}")
        if line is None:
            wanted = {ln.number for ln in order.lines}
        elif isinstance(line, (str, int)):
            wanted = {str(line)}
        else:
            wanted = {str(n) for n in line}
        unknown = wanted - {ln.number for ln in order.lines}
        if unknown:
            raise KeyError(f"order {purchase_order_id} has no line(s) {', '.join(sorted(unknown))}")
        for ln in order.lines:
            if ln.number in wanted:
                ln.set_status(status, now_ms, quantity)
        order.touch(now_ms)
        return order

    def render(self, order: OrderRecord, *, product_info: bool = False, replacement_info: bool = False) -> JsonDict:
        return render_order(
            order,
            items_by_sku=self.items_by_sku,
            ship_nodes=self.ship_nodes,
            product_info=product_info,
            replacement_info=replacement_info,
        )


def history_start(now_ms: int, days: int = 180) -> int:
    """The oldest creation moment Walmart serves (orders of the last 180 days)."""
    return now_ms - days * DAY_MS
