"""Walmart's ITEM report file: a zip holding one CSV with a header row (docs/walmart/FACTS.md, "Checked behaviours" 2).

Walmart's pages name the columns differently across report versions, so rows are handed on as read, keyed by the
header's names; ``models.marketplace.product_from_report_row`` picks its fields by name. A plain CSV or a gzip is read
too: Walmart's download page says the file "may be returned as CSV, XLSX, or compressed ZIP depending on the type and
size".
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
import zlib

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


def read_item_report(data: bytes) -> list[dict[str, str]]:
    """The report's rows (header names as keys). ``ValueError`` when the file cannot be read."""
    text = _csv_text(data)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return []
    return [{str(k): (v if isinstance(v, str) else "") for k, v in row.items() if k is not None} for row in reader]


def _csv_text(data: bytes) -> str:
    try:
        if data.startswith(ZIP_MAGIC):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [info.filename for info in archive.infolist() if not info.is_dir()]
                csvs = [name for name in names if name.lower().endswith(".csv")] or names
                if not csvs:
                    return ""
                data = archive.read(csvs[0])
        elif data.startswith(GZIP_MAGIC):
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
        raise ValueError(f"The item report is not a readable archive ({type(error).__name__}).") from None
    return data.decode("utf-8-sig", errors="replace")
