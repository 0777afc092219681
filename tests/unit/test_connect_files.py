"""Walmart Connect snapshot files: advertiser records in every layout, streamed CSV reports."""

import gzip
import io
import json
import zipfile

import pytest

from walmart_integration.walmart.connect_files import AdvertiserRecord, iter_report_rows, parse_advertisers

V1 = {
    "advertiserId": 501,
    "advertiserName": "Acme Toys",
    "advertiserType": "3p",
    "apiAccessType": "write",
    "accessGrantTimeStamp": "2026-01-05T10:00:00Z",
    "sellerId": 9001,
    "sellerName": "Acme LLC",
    "accountSpendLimitReached": False,
}
V1_STR = {
    "advertiserId": "502",
    "advertiserName": "Beta Foods",
    "advertiserType": "1P",
    "apiAccessType": "READ",
    "accessGrantTimeStamp": 1767225600000,
    "accountSpendLimitReached": True,
}
V2 = {
    "advertiserId": 503,
    "advertiserName": "Gamma",
    "advertiserType": "3p",
    "organizationId": 77,
    "organizationName": "Gamma Org",
    "advertiserAccess": [
        {"resourceGroupName": "A", "permissionType": "read", "grantTimeStamp": "2026-02-01T00:00:00+00:00"},
        {"resourceGroupName": "B", "permissionType": "WRITE", "grantTimeStamp": 1767225600000},
    ],
}
ACME = AdvertiserRecord(
    advertiser_id="501",
    name="Acme Toys",
    advertiser_type="3p",
    access="write",
    granted_at="2026-01-05T10:00:00+00:00",
    seller_id="9001",
    seller_name="Acme LLC",
    organization_name=None,
    spend_limit_reached=False,
)


def as_json(value) -> bytes:
    return json.dumps(value).encode()


def zipped(*files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, data in enumerate(files):
            archive.writestr(f"part-{index}.json", data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        as_json([V1, V1_STR]),
        as_json({"advertisers": [V1, V1_STR]}),
        as_json({"code": "success", "data": [V1, V1_STR]}),
        as_json({"meta": {"count": 2}, "payload": {"records": [V1, V1_STR]}}),
        (json.dumps(V1) + "\n\n" + json.dumps(V1_STR) + "\n").encode(),
        gzip.compress(as_json([V1, V1_STR])),
        gzip.compress(("\ufeff" + json.dumps(V1) + "\r\n" + json.dumps(V1_STR)).encode()),
        zipped(as_json([V1, V1_STR])),
        zipped(as_json([V1]), as_json(V1_STR)),
    ],
    ids=["array", "object", "data", "nested", "ndjson", "gzip", "gzip-ndjson-bom", "zip", "zip-two-files"],
)
def test_parse_advertisers_reads_every_layout(data):
    records, skipped = parse_advertisers(data)
    assert skipped == 0
    assert records[0] == ACME
    beta = records[1]
    assert (beta.advertiser_id, beta.advertiser_type, beta.access) == ("502", "1p", "read")
    assert beta.granted_at == "2026-01-01T00:00:00+00:00" and beta.spend_limit_reached is True
    assert beta.seller_id is None and beta.seller_name is None


def test_single_object_and_v2_record():
    [acme], skipped = parse_advertisers(as_json(V1))
    assert acme == ACME and skipped == 0
    [gamma], _ = parse_advertisers(gzip.compress(as_json(V2)))
    assert gamma.access == "write" and gamma.organization_name == "Gamma Org"
    assert gamma.granted_at == "2026-01-01T00:00:00+00:00"  # earliest grant
    [read_only], _ = parse_advertisers(as_json(V2 | {"advertiserAccess": [{"permissionType": "read"}]}))
    assert read_only.access == "read" and read_only.granted_at is None


def test_malformed_records_are_counted_and_duplicates_collapse():
    lines = [
        json.dumps(V1),
        json.dumps({**V1, "advertiserId": None}),
        json.dumps({**V1, "advertiserId": "abc"}),
        json.dumps({**V1, "advertiserId": True}),
        json.dumps({**V1, "advertiserName": "  "}),
        json.dumps({**V1, "advertiserType": "2p"}),
        json.dumps("just a string"),
        "{not json",
        json.dumps({**V1, "advertiserName": "Acme Renamed", "accessGrantTimeStamp": "garbage"}),
    ]
    records, skipped = parse_advertisers("\n".join(lines).encode())
    assert skipped == 7
    assert [(r.advertiser_id, r.name, r.granted_at) for r in records] == [("501", "Acme Renamed", None)]


def test_empty_and_broken_files():
    assert parse_advertisers(b"") == ([], 0)
    assert parse_advertisers(as_json({"advertisers": []})) == ([], 0)
    with pytest.raises(ValueError, match="archive"):
        parse_advertisers(gzip.compress(as_json([V1]))[:15])


def gzip_chunks(text: str, size: int = 1) -> list[bytes]:
    data = gzip.compress(text.encode())
    return [data[i : i + size] for i in range(0, len(data), size)]


REPORT = (
    "\ufeff date , adGroupId,adSpend,adGroupName\r\n"
    '2026-03-01,11,12.34,"Shoes, ""red"""\r\n'
    "\r\n"
    '2026-03-02,12,0.50,"two\nlines"\r\n'
    "2026-03-03,13\n"
)
EXPECTED = [
    {"date": "2026-03-01", "adGroupId": "11", "adSpend": "12.34", "adGroupName": 'Shoes, "red"'},
    {"date": "2026-03-02", "adGroupId": "12", "adSpend": "0.50", "adGroupName": "two\nlines"},
    {"date": "2026-03-03", "adGroupId": "13", "adSpend": "", "adGroupName": ""},
]


@pytest.mark.parametrize("size", [1, 3, 7, 4096])
def test_report_rows_from_gzip_in_tiny_chunks(size):
    assert list(iter_report_rows(gzip_chunks(REPORT, size))) == EXPECTED


def test_report_rows_plain_text_multi_member_gzip_and_laziness():
    plain = REPORT.encode()
    assert list(iter_report_rows([plain[i : i + 2] for i in range(0, len(plain), 2)])) == EXPECTED
    two_members = gzip.compress(b"a,b\n1,2\n") + gzip.compress(b"3,4\n")
    assert list(iter_report_rows([two_members])) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    consumed = []

    def chunks():
        for chunk in gzip_chunks("a\n" + "".join(f"{n}\n" for n in range(5000)), 64):
            consumed.append(chunk)
            yield chunk

    rows = iter_report_rows(chunks())
    assert next(rows) == {"a": "0"}
    assert len(consumed) < 5  # decoded as it arrives, not after the whole file
    assert list(iter_report_rows([])) == []


def test_truncated_or_corrupt_gzip_report_raises():
    data = gzip.compress(b"a,b\n" + b"1,2\n" * 1000)
    with pytest.raises(ValueError, match="gzip"):
        list(iter_report_rows([data[: len(data) // 2]]))
    with pytest.raises(ValueError, match="gzip"):
        list(iter_report_rows([b"\x1f\x8b" + b"\x00" * 30]))
