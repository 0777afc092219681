"""The arithmetic of ``bench/cost.py``, free of AWS, sockets and clocks (tests/unit/test_cost_model.py checks it).

- DynamoDB: item sizes and the request units a call consumes, by AWS's published rules;
- SQS and EventBridge: the 64 KB chunks a request is billed as;
- Lambda: duration at a memory size from CPU time and I/O wait, cost per invocation, the memory choice rule;
- prices x quantities, itemised by service.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bench import prices

# -- DynamoDB item sizes ------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html: an item's size is
# the sum of its attribute names' and values' UTF-8 lengths; a number takes 1 byte per two significant digits plus 1;
# null and Boolean 1 byte; a List or Map 3 bytes plus its elements, each element 1 byte more. Storage adds 100 bytes
# of indexing overhead per item.
STORAGE_OVERHEAD_BYTES = 100


def _utf8(text: str) -> int:
    return len(text.encode())


def number_size(number: str) -> int:
    digits = number.strip().lstrip("+-").lower().split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return (max(len(digits), 1) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB's wire format ({"S": ...}, {"N": ...}, {"M": {...}}...)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return _utf8(data)
    if kind == "N":
        return number_size(str(data))
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(s) for s in data)
    if kind == "NS":
        return sum(number_size(str(n)) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(_utf8(k) + value_size(v) + 1 for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    return sum(_utf8(name) + value_size(value) for name, value in (item or {}).items())


# -- DynamoDB request units ------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html: a read unit reads up to
# 4 KB strongly consistent (half a unit eventually consistent, two transactional); a write unit writes up to 1 KB (two
# transactional); an update or replacement is sized by the larger of the item before and after; a Query reads the
# items it evaluates, sizes summed then rounded up to 4 KB; a conditional write that fails still consumes units (one if
# the item does not exist, else by its size). Each write that changes a global secondary index writes the index too:
# one index write, two when the index key changes (old entry deleted, new one put). Projection ALL: an index entry is
# the size of the item.
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
HALF = Decimal("0.5")


def read_units(size_bytes: int, *, consistent: bool = False, transactional: bool = False) -> Decimal:
    blocks = Decimal(max(1, math.ceil(size_bytes / READ_UNIT_BYTES)))
    if transactional:
        return blocks * 2
    return blocks if consistent else blocks * HALF


def write_units(size_bytes: int, *, transactional: bool = False) -> Decimal:
    units = Decimal(max(1, math.ceil(size_bytes / WRITE_UNIT_BYTES)))
    return units * 2 if transactional else units


@dataclass(frozen=True)
class IndexKeys:
    """A global secondary index: its name and its key attributes."""

    name: str
    attributes: tuple[str, ...]


def _index_key(item: Mapping[str, Any] | None, index: IndexKeys) -> tuple[Any, ...] | None:
    if not item or any(name not in item for name in index.attributes):
        return None
    return tuple(repr(item[name]) for name in index.attributes)


def item_write_units(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    indexes: Iterable[IndexKeys] = (),
    *,
    transactional: bool = False,
    failed: bool = False,
) -> Decimal:
    """Write units of one item written from ``before`` to ``after`` (None: absent), its indexes included (an index
    write is a plain write, in a transaction too).

    ``failed``: the write's condition did not hold (the table is charged, no index is written).
    """
    if failed:
        return write_units(item_size(before) if before else 0, transactional=transactional)
    units = write_units(max(item_size(before), item_size(after)), transactional=transactional)
    for index in indexes:
        old, new = _index_key(before, index), _index_key(after, index)
        if old is None and new is None:
            continue
        if old is not None and new is not None and old != new:
            units += write_units(item_size(before)) + write_units(item_size(after))
        else:
            units += write_units(max(item_size(before) if old else 0, item_size(after) if new else 0))
    return units


def query_read_units(evaluated_items: Iterable[Mapping[str, Any]], *, consistent: bool = False) -> Decimal:
    """A Query or Scan page: the evaluated items' sizes summed, then rounded up to 4 KB."""
    return read_units(sum(item_size(item) for item in evaluated_items), consistent=consistent)


# -- SQS and EventBridge -----------------------------------------------------------------------------------------------
def chunks(payload_bytes: int, chunk_bytes: int) -> int:
    """Billed requests (or events) of one payload: every started chunk counts, at least one."""
    return max(1, math.ceil(payload_bytes / chunk_bytes))


def sqs_requests(payload_bytes: int) -> int:
    return chunks(payload_bytes, prices.SQS_CHUNK_BYTES)


def eventbridge_event_size(entry: Mapping[str, Any]) -> int:
    """https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html: Time (14 bytes), Source,
    DetailType, Detail and each Resources entry, UTF-8."""
    size = 14
    for name in ("Source", "DetailType", "Detail"):
        size += _utf8(str(entry.get(name) or ""))
    return size + sum(_utf8(str(r)) for r in entry.get("Resources") or [])


def eventbridge_events(entry: Mapping[str, Any]) -> int:
    return chunks(eventbridge_event_size(entry), prices.EVENTBRIDGE_CHUNK_BYTES)


# -- Lambda: duration and cost at a memory size ------------------------------------------------------------------
MEMORY_SIZES_MB = (128, 256, 512, 1024, 1769, 2048)
TOLERANCE = Decimal("0.10")  # "within 10 % of the fastest"


def duration_seconds(cpu_seconds: float, io_seconds: float, memory_mb: int) -> float:
    """Lambda gives CPU in proportion to memory, one vCPU at 1,769 MB (prices.LAMBDA_ONE_VCPU_MB); a single-threaded
    handler gains nothing above that. I/O waits do not depend on memory."""
    return io_seconds + cpu_seconds * max(1.0, prices.LAMBDA_ONE_VCPU_MB / memory_mb)


def billed_milliseconds(seconds: float) -> int:
    """Duration is billed per started millisecond."""
    return max(1, math.ceil(round(seconds * 1000, 6)))


def gb_seconds(memory_mb: int, milliseconds: float) -> Decimal:
    return Decimal(memory_mb) / 1024 * Decimal(str(milliseconds)) / 1000


def invocation_cost(memory_mb: int, seconds: float) -> Decimal:
    """One invocation: the request and its billed duration at ``memory_mb``."""
    return prices.LAMBDA_REQUEST + gb_seconds(memory_mb, billed_milliseconds(seconds)) * prices.LAMBDA_ARM_GB_SECOND


@dataclass(frozen=True)
class MemoryOption:
    memory_mb: int
    duration_ms: float
    cost_per_million_usd: Decimal
    fits: bool  # the function's measured footprint (with headroom) fits in this size


def memory_options(
    cpu_seconds: float,
    io_seconds: float,
    sizes: Iterable[int] = MEMORY_SIZES_MB,
    needed_mb: float = 0,
) -> list[MemoryOption]:
    options = []
    for size in sizes:
        seconds = duration_seconds(cpu_seconds, io_seconds, size)
        options.append(
            MemoryOption(
                memory_mb=size,
                duration_ms=round(seconds * 1000, 1),
                cost_per_million_usd=money(invocation_cost(size, seconds) * prices.MILLION),
                fits=size >= needed_mb,
            )
        )
    return options


def choose_memory(options: Iterable[MemoryOption], tolerance: Decimal = TOLERANCE) -> MemoryOption:
    """The cheapest size whose duration is within ``tolerance`` of the fastest (ties: the smaller size), among the
    sizes the function fits in."""
    fitting = [o for o in options if o.fits]
    if not fitting:
        raise ValueError("the function fits in none of the sizes")
    fastest = min(o.duration_ms for o in fitting)
    close = [o for o in fitting if Decimal(str(o.duration_ms)) <= Decimal(str(fastest)) * (1 + tolerance)]
    return min(close, key=lambda o: (o.cost_per_million_usd, o.memory_mb))


# -- snapshot polls ----------------------------------------------------------------------------------------------------
def polls_until_ready(processing_seconds: float, delay_after: Callable[[int], float], limit: int = 10_000) -> int:
    """Polls of a snapshot ready ``processing_seconds`` after its request: the first poll ``delay_after(0)`` after
    the request, the next ``delay_after(n)`` after the n-th; the last one finds it ready."""
    elapsed, polls = 0.0, 0
    while polls < limit:
        elapsed += max(delay_after(polls), 0.0)
        polls += 1
        if elapsed >= processing_seconds:
            return polls
    raise ValueError(f"not ready after {limit} polls: the delays do not add up to {processing_seconds} s")


# -- prices x quantities -----------------------------------------------------------------------------------------------
CENT_FRACTION = Decimal("0.000001")


def money(value: Decimal) -> Decimal:
    """Dollars to the millionth (figures per invocation are tiny; totals are rounded where shown)."""
    return value.quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)


def priced(quantities: Mapping[str, Decimal], unit_prices: Mapping[str, Decimal] = prices.UNIT_PRICES) -> dict:
    """Each quantity's cost, and the costs summed per service (the quantity name's prefix) and in all."""
    unknown = sorted(set(quantities) - set(unit_prices))
    if unknown:
        raise KeyError(f"no price for {', '.join(unknown)}")
    items = {name: Decimal(amount) * unit_prices[name] for name, amount in sorted(quantities.items())}
    services: dict[str, Decimal] = {}
    for name, cost in items.items():
        service = name.split(".", 1)[0]
        services[service] = services.get(service, Decimal(0)) + cost
    return {
        "total_usd": money(sum(items.values(), Decimal(0))),
        "by_service_usd": {service: money(cost) for service, cost in sorted(services.items())},
        "by_quantity_usd": {name: money(cost) for name, cost in items.items()},
    }
