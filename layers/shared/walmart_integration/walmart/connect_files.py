"""Walmart Connect snapshot files: the advertiser-attributes file and streamed gzip CSV reports.

No layout is promised (docs/walmart/FACTS.md): both readers are tolerant: gzip, zip or plain; a JSON array, an object
holding one, a single object or NDJSON; CSV columns read by header name.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
LIST_KEYS = ("advertisers", "data", "records", "items", "results")


@dataclass(frozen=True)
class AdvertiserRecord:
    advertiser_id: str
    name: str
    advertiser_type: str  # "1p" | "3p"
    access: str  # "read" | "write"
    granted_at: str | None
    seller_id: str | None
    seller_name: str | None
    organization_name: str | None
    spend_limit_reached: bool


def parse_advertisers(data: bytes) -> tuple[list[AdvertiserRecord], int]:
    """(records de-duplicated by advertiser id, last wins; number of malformed records skipped).
    Raises ``ValueError`` when the archive itself cannot be read."""
    records: dict[str, AdvertiserRecord] = {}
    skipped = 0
    for payload in _unpack(data):
        items, bad = _json_objects(payload.decode("utf-8-sig", errors="replace"))
        skipped += bad
        for item in items:
            record = _advertiser(item)
            if record is None:
                skipped += 1
            else:
                records[record.advertiser_id] = record
    return list(records.values()), skipped


def _unpack(data: bytes, depth: int = 0) -> list[bytes]:
    try:
        if data.startswith(GZIP_MAGIC) and depth < 3:
            return _unpack(gzip.decompress(data), depth + 1)
        if data.startswith(ZIP_MAGIC) and depth < 3:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [info.filename for info in archive.infolist() if not info.is_dir()]
                return [part for name in names for part in _unpack(archive.read(name), depth + 1)]
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
        raise ValueError(f"The advertiser file is not a readable archive ({type(error).__name__}).") from None
    return [data]


def _json_objects(text: str) -> tuple[list[Any], int]:
    """(candidate records, unparseable lines) from a JSON document or NDJSON."""
    text = text.strip()
    if not text:
        return [], 0
    try:
        return _records_in(json.loads(text)), 0
    except ValueError:
        pass
    items: list[Any] = []
    bad = 0
    for line in text.splitlines():
        if line.strip():
            try:
                items.extend(_records_in(json.loads(line)))
            except ValueError:
                bad += 1
    return items, bad


def _records_in(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and "advertiserId" not in value:
        found = _find_list(value, 2)
        if found is not None:
            return found
    return [value]


def _find_list(value: dict[str, Any], depth: int) -> list[Any] | None:
    keys = [key for key in LIST_KEYS if key in value] + [key for key in value if key not in LIST_KEYS]
    for key in keys:
        item = value[key]
        if isinstance(item, list) and item and all(isinstance(entry, dict) for entry in item):
            return item
    for key in keys:
        if key in LIST_KEYS and isinstance(value[key], list) and not value[key]:
            return []
        if depth > 1 and isinstance(value[key], dict):
            found = _find_list(value[key], depth - 1)
            if found is not None:
                return found
    return None


def _advertiser(raw: Any) -> AdvertiserRecord | None:
    if not isinstance(raw, dict):
        return None
    advertiser_id = _id(raw.get("advertiserId"))
    name = _text(raw.get("advertiserName"))
    advertiser_type = (_text(raw.get("advertiserType")) or "").lower()
    if advertiser_id is None or name is None or advertiser_type not in ("1p", "3p"):
        return None
    grants = [grant for grant in raw.get("advertiserAccess") or [] if isinstance(grant, dict)]
    permissions = [(_text(raw.get("apiAccessType")) or "").lower()]
    if not permissions[0]:
        permissions = [(_text(grant.get("permissionType")) or "").lower() for grant in grants]
    granted = _timestamp(raw.get("accessGrantTimeStamp"))
    if granted is None:
        granted = min(filter(None, (_timestamp(grant.get("grantTimeStamp")) for grant in grants)), default=None)
    return AdvertiserRecord(
        advertiser_id=advertiser_id,
        name=name,
        advertiser_type=advertiser_type,
        access="write" if any("write" in permission for permission in permissions) else "read",
        granted_at=granted,
        seller_id=_id(raw.get("sellerId"), digits_only=False),
        seller_name=_text(raw.get("sellerName")),
        organization_name=_text(raw.get("organizationName")),
        spend_limit_reached=_flag(raw.get("accountSpendLimitReached")),
    )


def _id(value: Any, digits_only: bool = True) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = _text(value)
    if text is None or (digits_only and not text.isdigit()):
        return None
    return text


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y")
    return bool(value)


def _timestamp(value: Any) -> str | None:
    """ISO 8601 (UTC) of an ISO string or epoch milliseconds (seconds when small); ``None`` if neither."""
    moment: datetime | None = None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat() if moment else None


def iter_report_rows(chunks: Iterable[bytes]) -> Iterator[dict[str, str]]:
    """Rows of a (gzip) CSV report as ``{header: value}``, decoded as the chunks arrive.

    Header names are stripped, blank lines skipped, missing trailing cells read as ``""`` and extra cells
    ignored; quoted fields may hold commas and newlines and rows may straddle chunk boundaries."""
    header: list[str] | None = None
    for row in csv.reader(_lines(chunks)):
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [name.strip() for name in row]
            continue
        yield {name: row[index] if index < len(row) else "" for index, name in enumerate(header)}


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Text lines (each ending in ``\\n`` except perhaps the last) of the decompressed, decoded stream."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    pending = ""
    for part in _plain_bytes(chunks):
        pending += decoder.decode(part)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _plain_bytes(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of ``chunks``, gunzipped on the fly (multi-member gzip too) when they start with the gzip magic.
    A corrupt or truncated gzip stream raises ``ValueError`` rather than ending early."""
    stream = iter(chunks)
    head = b""
    for chunk in stream:
        head += chunk
        if len(head) >= 2:
            break
    if not head.startswith(GZIP_MAGIC):
        yield head
        yield from stream
        return
    inflater, fed = zlib.decompressobj(16 + zlib.MAX_WBITS), False
    try:
        for chunk in itertools.chain([head], stream):
            data = chunk
            while data:
                fed = True
                yield inflater.decompress(data)
                data = b""
                if inflater.eof:  # next gzip member, if any (trailing NUL padding is ignored)
                    data = inflater.unused_data.lstrip(b"\x00")
                    inflater, fed = zlib.decompressobj(16 + zlib.MAX_WBITS), False
        yield inflater.flush()
    except zlib.error as error:
        raise ValueError(f"The report file is not valid gzip ({error}).") from None
    if fed and not inflater.eof:
        raise ValueError("The report file ends in the middle of its gzip stream.")
