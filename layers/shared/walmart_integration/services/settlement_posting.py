"""A settlement document per payment period: one journal that matches Walmart's deposit to the cent.

From the period's report lines (stored by the settlements sync; their meaning: ``settlement_rules``):

    Dr bank                 the deposit (Walmart's Total Payable)
    Cr accounts_receivable  what customers paid for the orders it pays (price, shipping, tax; refunds the other way)
    Dr facilitator_tax      the tax Walmart withheld as marketplace facilitator (our invoices credited it: nets to 0)
    Dr accrued_costs        the proforma fee estimates accrued on those orders, reversed
    Dr marketplace_fees     Walmart's actual commission minus those estimates (the estimate's error, visible)
    Cr payment_fees         the payment-fee estimates reversed (the report charges none)
    Dr/Cr wfs_fees, adjustments, reserves   as Walmart charged or released them

``unexplained`` = deposit - everything the journal posts; it must be 0.00 for the document to be issued. A line that
cannot be classified (or an order that was never invoiced, or a refund not yet credited) holds the settlement with
the reason, and ``unexplained``
says how much is waiting; the journal is issued, once, when nothing is held. Issuing is exactly once (a guard item
written in the same transaction as the document); the accruals each order had cleared are recorded per settlement
first, so a retry computes the same journal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from walmart_integration.models.accounting import AccountingDocumentRecord, PostingLine
from walmart_integration.models.common import iso, new_id
from walmart_integration.models.settlements import SettlementLine, SettlementPeriod
from walmart_integration.services.accounting_rules import ZERO, cents, money
from walmart_integration.services.settlement_rules import ROLE_ACCOUNTS, classify

if TYPE_CHECKING:
    from datetime import datetime

    from walmart_integration.services.accounting import Codes

FEE_ACCOUNTS = ("marketplace_fees", "payment_fees")


@dataclass
class SettlementJournal:
    """What one settlement posts, or why it cannot yet."""

    lines: list[PostingLine] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)
    clearings: dict[str, dict[str, str]] = field(default_factory=dict)  # po -> account -> accrual cleared
    unexplained: Decimal = ZERO


def outstanding_accruals(
    posting: dict[str, Any] | None,
    cleared: dict[str, dict[str, str]],
    settlement_id: str,
    kinds: set[str],
) -> dict[str, str]:
    """The order's proforma fee accruals this settlement clears, per ``kind:account``: the sales' accruals when it
    pays the sale (``sale``), the credit notes' reversals when it pays a refund (``refund``), less what another
    settlement cleared of them. Attributed by what the report pays, so the journal is the same whichever of our
    documents were issued first."""
    accrued = (posting or {}).get("accrued_fees") or {}
    refunds = (posting or {}).get("accrued_refunds") or {}
    result = {}
    for account in FEE_ACCOUNTS:
        parts = {
            "sale": money(accrued.get(account)) - money(refunds.get(account)),
            "refund": money(refunds.get(account)),
        }
        for kind in sorted(kinds):
            key = f"{kind}:{account}"
            done = sum((money(c.get(key)) for sid, c in cleared.items() if sid != settlement_id), ZERO)
            result[key] = str(parts[kind] - done)
    return result


def build_journal(
    period: SettlementPeriod,
    report: list[SettlementLine],
    postings: dict[str, dict[str, Any]],
    cleared: dict[str, dict[str, dict[str, str]]],
    codes: Codes,
    now: datetime,
) -> SettlementJournal:
    journal = SettlementJournal()
    deposit = period.deposit or ZERO
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)  # (account, description) -> debit (signed)
    commission: dict[str, Decimal] = defaultdict(lambda: ZERO)  # po -> actual commission (a cost: positive)
    explained = ZERO
    held_at = iso(now) or ""

    def hold(line: SettlementLine, reason: str) -> None:
        journal.holds.append(
            {
                "purchase_order_id": line.purchase_order_id,
                "line_number": str(line.position),
                "sku": line.sku,
                "reason": reason,
                "amount": str(line.amount if line.amount is not None else ""),
                "held_at": held_at,
            }
        )

    kinds: dict[str, set[str]] = defaultdict(set)  # po -> what the report pays of it: its sale, a refund
    refunded: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in report:
        if not line.is_payment_summary and line.purchase_order_id and classify(line)[0] == "receivable":
            amount = line.amount or ZERO
            kinds[line.purchase_order_id].add("sale" if amount >= 0 else "refund")
            refunded[line.purchase_order_id] -= min(amount, ZERO)
    for line in report:
        if line.is_payment_summary:
            continue
        role, reason = classify(line)
        if role is None:
            hold(line, reason or "Not classified.")
            continue
        amount = line.amount or ZERO
        po = line.purchase_order_id
        if role in ("receivable", "facilitator_tax", "commission") and po and not _invoiced(postings.get(po)):
            hold(line, f"Order {po} has not been invoiced: its payment cannot clear a receivable.")
            continue
        if role == "receivable" and po and amount < 0 and _credited(postings.get(po)) < refunded[po]:
            hold(
                line,
                f"Order {po}: Walmart refunded {refunded[po]}, credited so far {_credited(postings.get(po))}: "
                "the settlement waits for the credit note.",
            )
            continue
        explained += amount
        if role == "commission" and po:
            commission[po] -= amount
            continue
        description = {
            "receivable": "Customer payments for the orders paid (price, shipping, tax), net of refunds",
            "facilitator_tax": "Sales tax withheld by Walmart (marketplace facilitator)",
            "wfs_fees": "WFS fees",
            "adjustments": "Adjustments",
            "reserves": "Reserve held (released: credit)",
        }[role]
        totals[(ROLE_ACCOUNTS[role], description)] -= amount
    accrued_total = ZERO
    difference: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for po, actual in sorted(commission.items()):
        outstanding = outstanding_accruals(postings.get(po), cleared.get(po) or {}, period.settlement_id, kinds[po])
        journal.clearings[po] = outstanding
        fees = {
            account: sum((money(v) for k, v in outstanding.items() if k.endswith(f":{account}")), ZERO)
            for account in FEE_ACCOUNTS
        }
        accrued_total += sum(fees.values(), ZERO)
        difference["marketplace_fees"] += actual - fees["marketplace_fees"]
        difference["payment_fees"] -= fees["payment_fees"]
    totals[("accrued_costs", "Proforma fee estimates of the orders paid, reversed")] += accrued_total
    totals[("marketplace_fees", "Walmart's commission minus the proforma estimate")] += difference["marketplace_fees"]
    totals[("payment_fees", "Payment-fee estimate reversed (Walmart charged none)")] += difference["payment_fees"]
    journal.unexplained = deposit - explained
    held_total = sum((money(h["amount"]) for h in journal.holds if h["amount"]), ZERO)
    if journal.unexplained != 0 and not journal.holds:
        journal.holds.append(
            {
                "purchase_order_id": None,
                "line_number": "deposit",
                "sku": None,
                "reason": f"The report's lines sum to {explained + held_total}, the deposit is {deposit}.",
                "amount": str(journal.unexplained),
                "held_at": held_at,
            }
        )
    if journal.holds:
        return journal
    _add(journal, codes, "bank", deposit, "Walmart deposit (Total Payable)")
    for (account, description), debit in totals.items():
        _add(journal, codes, account, debit, description)
    return journal


def _invoiced(posting: dict[str, Any] | None) -> bool:
    """Whether the order's revenue was invoiced (its cost of goods sold alone is not enough)."""
    lines = ((posting or {}).get("invoice") or {}).values()
    return any(money(line.get(name)) != 0 for line in lines for name in ("product", "shipping", "tax"))


def _credited(posting: dict[str, Any] | None) -> Decimal:
    """What the order's credit notes credited so far (price, shipping, tax)."""
    lines = ((posting or {}).get("credit") or {}).values()
    return sum((money(line.get(name)) for line in lines for name in ("product", "shipping", "tax")), ZERO)


def _add(journal: SettlementJournal, codes: Codes, account: str, debit: Decimal, description: str) -> None:
    if cents(debit) == 0:
        return
    code = codes.get(account)
    journal.lines.append(
        PostingLine(
            account=account,
            nominal_code_id=code[0] if code else None,
            nominal_code=code[1] if code else None,
            debit=str(cents(debit)) if debit > 0 else "0.00",
            credit=str(cents(-debit)) if debit < 0 else "0.00",
            description=description,
        )
    )


def settlement_document(
    tenant_id: str, instance_id: str, period: SettlementPeriod, lines: list[PostingLine], now: datetime
) -> AccountingDocumentRecord:
    from walmart_integration.services.accounting import totals

    return AccountingDocumentRecord(
        id=new_id(),
        tenant_id=tenant_id,
        instance_id=instance_id,
        type="settlement",
        reason="settlement",
        period="immediate",
        currency=period.currency or "USD",
        purchase_order_ids=[],
        settlement_id=period.settlement_id,
        lines=lines,
        created_at=iso(now) or "",
        status="issued",
        issued_at=iso(now),
        totals=totals(lines),
        published=False,
    )
