"""Accounting documents from synced orders: invoices and credit notes, immediate or in period batches.

Each evaluation of an order compares what its lines should have posted (``accounting_rules``) with what the order has
posted so far, and posts only the difference, in one transaction with the order's posting state (guarded by its
version): re-syncs, duplicate deliveries and retries post nothing twice, and an issued document never changes (a late
change posts a correcting document). Lines that cannot be posted (a missing nominal code, a product without cost) are
held with the reason and posted once the setting is fixed. Issued documents go through an outbox to EventBridge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from walmart_integration.config import Settings
from walmart_integration.errors import NotFound, RetryLater
from walmart_integration.models.accounting import (
    AccountingDocument,
    AccountingDocumentRecord,
    AccountingHold,
    AccountingHoldRecord,
    DocumentTotals,
    PostingLine,
)
from walmart_integration.models.common import iso, new_id, precise_iso, utcnow
from walmart_integration.models.instance import ACCOUNTS
from walmart_integration.models.messages import AccountingJob
from walmart_integration.models.returns import ReturnOrder
from walmart_integration.observability import logger
from walmart_integration.services.accounting_rules import (
    INVOICED_STATUSES,
    ZERO,
    LineAmounts,
    LineTarget,
    Posted,
    cents,
    cost_due,
    credit_due,
    invoice_due,
    line_targets,
    money,
    returned_by_line,
)

if TYPE_CHECKING:
    from walmart_integration.services.ports import (
        Catalog,
        Events,
        Instances,
        MessageQueues,
        Postings,
        ReferenceData,
        Returns,
        Settlements,
        SyncedData,
    )
    from walmart_integration.worker import Delivery

EVENT_TYPES = {
    "invoice": "SalesInvoiceIssued",
    "credit": "SalesCreditIssued",
    "cogs": "CostOfGoodsSoldPosted",
    "settlement": "SettlementPosted",
}
EVENT_SOURCE = "walmart-integration.accounting"
ACCOUNTED_STATUSES = INVOICED_STATUSES | {"Cancelled"}  # line statuses that may owe an invoice or a credit
ATTEMPTS = 4
CLEARING_WRITERS = 16  # concurrent writes of a settlement's accrual clearings (one per order it pays)
Codes = dict[str, tuple[int, str] | None]  # account -> (nominal code id, code), None when not set or gone


def period_key(period: str, moment: datetime) -> tuple[str, datetime]:
    """The key of the UTC period holding ``moment`` and the instant that period ends."""
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if period == "daily":
        return day.date().isoformat(), day + timedelta(days=1)
    if period == "weekly":
        year, week, _ = moment.isocalendar()
        start = day - timedelta(days=moment.weekday())
        return f"{year}-W{week:02d}", start + timedelta(days=7)
    first = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    following = datetime(moment.year + (moment.month == 12), moment.month % 12 + 1, 1, tzinfo=UTC)
    return first.strftime("%Y-%m"), following


def _may_owe_a_document(order: dict[str, Any]) -> bool:
    """Whether any unit of the order shipped, was cancelled or refunded (each status of a line counts)."""
    for line in order.get("lines") or []:
        statuses = {line.get("status")} | {s.get("status") for s in line.get("statuses") or []}
        if statuses & ACCOUNTED_STATUSES or line.get("refund") or line.get("refund_charges"):
            return True
    return False


class Period(NamedTuple):
    name: str  # immediate | daily | weekly | monthly
    key: str | None = None  # 2026-11-30 | 2026-W48 | 2026-11
    end: str | None = None  # when the period ends (the batch closes after it)


@dataclass
class _Context:
    """What every order of one evaluation shares."""

    tenant_id: str
    instance_id: str
    settings: dict[str, Any]
    codes: Codes


def _amount(value: Decimal) -> str:
    return str(cents(value))


def missing_codes_reason(accounts: list[str]) -> str:
    names = ", ".join(account.replace("_", " ") for account in accounts)
    return f"No {names} nominal code is set on the instance (or it no longer exists)."


class Entries:
    """Double-entry lines of one document; debits and credits balance by construction."""

    def __init__(self, codes: Codes) -> None:
        self.codes = codes
        self.lines: list[PostingLine] = []

    def add(self, account: str, debit: Decimal, target: LineTarget | None, po: str, description: str) -> None:
        """``debit`` > 0 debits the account, < 0 credits it."""
        if debit == 0:
            return
        code = self.codes.get(account)
        self.lines.append(
            PostingLine(
                account=account,
                nominal_code_id=code[0] if code else None,
                nominal_code=code[1] if code else None,
                debit=_amount(debit) if debit > 0 else "0.00",
                credit=_amount(-debit) if debit < 0 else "0.00",
                purchase_order_id=po,
                line_number=target.line_number if target else None,
                sku=target.sku if target else None,
                description=description,
            )
        )

    def missing(self) -> list[str]:
        """Accounts of these lines without a nominal code (the document would not post anywhere)."""
        return list(dict.fromkeys(line.account for line in self.lines if line.nominal_code_id is None))

    def invoice(self, target: LineTarget, amounts: LineAmounts, po: str) -> None:
        self.add("accounts_receivable", amounts.gross, target, po, "Amount due from the marketplace")
        self.add("sales", -amounts.product, target, po, "Product revenue")
        self.add("shipping_revenue", -amounts.shipping, target, po, "Shipping revenue")
        self.add(
            "facilitator_tax", -amounts.tax, target, po, "Sales tax collected by Walmart (marketplace facilitator)"
        )

    def cost(self, target: LineTarget, amounts: LineAmounts, po: str) -> None:
        self.add("cogs", amounts.cogs, target, po, "Cost of goods sold")
        self.add("inventory", -amounts.cogs, target, po, "Inventory")

    def credit(self, target: LineTarget, amounts: LineAmounts, po: str) -> None:
        self.add("sales_returns_allowances", amounts.product, target, po, "Product refund")
        self.add("shipping_refund", amounts.shipping, target, po, "Shipping refund")
        self.add("facilitator_tax", amounts.tax, target, po, "Sales tax refunded (marketplace facilitator)")
        self.add("accounts_receivable", -amounts.gross, target, po, "Refund owed to the customer")

    def proforma(self, sales_price: Decimal, settings: dict[str, Any], po: str) -> None:
        """Estimated marketplace and payment fees on the sales price (item + shipping, tax excluded: Walmart's
        referral-fee base, docs/walmart/FACTS.md "Referral fees"); a negative price reverses the estimate."""
        for name, account in (("marketplace", "marketplace_fees"), ("payment", "payment_fees")):
            percentage = settings.get(f"proforma_{name}_cost_percentage")
            if percentage is None or sales_price == 0:
                continue
            rate = money(percentage)
            estimate = cents(sales_price * rate / 100)
            self.add(account, estimate, None, po, f"Estimated {name} fees ({format(rate.normalize(), 'f')}%)")
            self.add("accrued_costs", -estimate, None, po, f"Accrued {name} fees")


def totals(lines: list[PostingLine]) -> DocumentTotals:
    debit = sum((Decimal(line.debit) for line in lines), ZERO)
    credit = sum((Decimal(line.credit) for line in lines), ZERO)
    tax = sum((Decimal(line.credit) - Decimal(line.debit) for line in lines if line.account == "facilitator_tax"), ZERO)
    receivable = sum(
        (Decimal(line.debit) - Decimal(line.credit) for line in lines if line.account == "accounts_receivable"), ZERO
    )
    gross = abs(receivable)
    return DocumentTotals(
        debit=_amount(debit),
        credit=_amount(credit),
        gross=_amount(gross),
        tax=_amount(abs(tax)),
        net=_amount(gross - abs(tax)),
    )


@dataclass
class _Due:
    """What one evaluation of an order posts: (line, amounts) per part, and the lines held with their reasons."""

    invoices: list[tuple[LineTarget, LineAmounts]] = field(default_factory=list)
    costs: list[tuple[LineTarget, LineAmounts]] = field(default_factory=list)
    credits: list[tuple[LineTarget, LineAmounts]] = field(default_factory=list)
    holds: dict[str, AccountingHoldRecord] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.invoices or self.costs or self.credits)


class AccountingService:
    def __init__(
        self,
        settings: Settings,
        instances: Instances,
        synced: SyncedData,
        catalog: Catalog,
        reference: ReferenceData,
        repo: Postings,
        queues: MessageQueues,
        events: Events,
        clock: Callable[[], datetime] = utcnow,
        settlements: Settlements | None = None,
        returns: Returns | None = None,
    ) -> None:
        self.settings = settings
        self.instances = instances
        self.synced = synced
        self.catalog = catalog
        self.reference = reference
        self.repo = repo
        self.queues = queues
        self.events = events
        self.clock = clock
        self.settlements = settlements
        self.returns = returns

    # -- triggers -----------------------------------------------------------------------------------------
    def orders_stored(
        self, tenant_id: str, instance_id: str, settings: dict[str, Any], orders: list[dict[str, Any]]
    ) -> None:
        """After a page of orders was stored: evaluate those that may owe a document (none with both flags off)."""
        if not (
            settings.get("sync_sales_order_invoices_to_accounting", True)
            or settings.get("sync_sales_credit_to_accounting", True)
        ):
            return
        relevant = [str(order["purchase_order_id"]) for order in orders if _may_owe_a_document(order)]
        self._enqueue(tenant_id, instance_id, relevant)

    def _enqueue(self, tenant_id: str, instance_id: str, purchase_order_ids: list[str]) -> None:
        for start in range(0, len(purchase_order_ids), 100):
            job = AccountingJob(
                tenant_id=tenant_id, instance_id=instance_id, purchase_order_ids=purchase_order_ids[start : start + 100]
            )
            self.queues.send(self.settings.accounting_queue_url, job)

    def product_changed(self, tenant_id: str, sku: str) -> int:
        """A product's cost (or name) changed: the orders with lines of it held, in every instance of the tenant, are
        evaluated again at once (their accounting jobs queued). The number of orders queued."""
        queued = 0
        for instance_id in self._instance_ids(tenant_id):
            pos = sorted(
                {
                    str(posting["purchase_order_id"])
                    for posting in self.repo.held(tenant_id, instance_id)
                    if any(hold.get("sku") == sku for hold in (posting.get("holds") or {}).values())
                }
            )
            self._enqueue(tenant_id, instance_id, pos)
            queued += len(pos)
        return queued

    def _instance_ids(self, tenant_id: str) -> list[str]:
        ids: list[str] = []
        cursor = None
        while True:
            records, cursor = self.instances.page(tenant_id, 100, cursor)
            ids += [record.id for record in records]
            if not cursor:
                return ids

    # -- evaluation ----------------------------------------------------------------------------------------
    def evaluate(self, job: AccountingJob, delivery: Delivery) -> None:
        record = self.instances.find(job.tenant_id, job.instance_id)
        if record is None:
            return
        settings = dict(record.integration_settings)
        ids = list(job.purchase_order_ids)
        if job.release:
            ids += sorted({str(p["purchase_order_id"]) for p in self.repo.held(job.tenant_id, job.instance_id)})
        ids = list(dict.fromkeys(ids))
        if not ids and not job.settlement_ids:
            return
        codes = self._codes(job.tenant_id, settings)
        orders = self.synced.orders(job.tenant_id, job.instance_id, ids)
        postings = self.repo.postings(job.tenant_id, job.instance_id, list(orders))
        skus = [str(line.get("sku")) for order in orders.values() for line in order.get("lines") or []]
        costs = {
            sku: (money(p.cost) if p.cost is not None else None)
            for sku, p in self.catalog.by_skus(job.tenant_id, skus).items()
        }
        posted: set[str] = set()
        context = _Context(job.tenant_id, job.instance_id, settings, codes)
        returns = self.returns.of_orders(job.tenant_id, job.instance_id, list(orders)) if self.returns else {}
        for po, order in orders.items():
            if self._evaluate_order(context, order, costs, postings.get(po), returns.get(po) or []):
                posted.add(po)
        if posted:
            self.publish_outbox()
        # after the orders: settlements named, and those held waiting on the orders just posted (or any, on release)
        settlement_ids = list(job.settlement_ids)
        if posted or job.release:
            for item in self.repo.settlement_holds(job.tenant_id, job.instance_id):
                waiting_on = {str(hold.get("purchase_order_id")) for hold in item.get("holds") or []}
                if job.release or waiting_on & posted:
                    settlement_ids.append(str(item["settlement_id"]))
        for settlement_id in dict.fromkeys(settlement_ids):
            self.post_settlement(job.tenant_id, job.instance_id, settlement_id, codes)

    def _codes(self, tenant_id: str, settings: dict[str, Any]) -> Codes:
        wanted = {account: settings.get(f"{account}_nominal_code_id") for account in ACCOUNTS}
        found = self.reference.nominal_codes(tenant_id, {int(v) for v in wanted.values() if v is not None})
        return {
            account: (int(number), found[int(number)]) if number is not None and int(number) in found else None
            for account, number in wanted.items()
        }

    def _evaluate_order(
        self,
        context: _Context,
        order: dict[str, Any],
        costs: dict[str, Decimal | None],
        state: dict[str, Any] | None,
        returns: list[ReturnOrder],
    ) -> bool:
        """Post what the order owes (``returns``: its return orders); True when a document was posted."""
        po = str(order["purchase_order_id"])
        targets = line_targets(order, costs, returned_by_line(returns, po))
        for attempt in range(ATTEMPTS):
            if attempt:
                state = self.repo.posting(context.tenant_id, context.instance_id, po)
            done, posted = self._post(context, order, targets, state)
            if done:
                return posted
        raise RetryLater(f"Order {po}: its accounting changed concurrently; evaluated again later")

    def _due(self, context: _Context, po: str, targets: list[LineTarget], posted: Posted, now: datetime) -> _Due:
        """What each line owes, part by part (invoice, cost of goods sold, credit), each part held on its own when it
        cannot post (a missing nominal code, a product without cost): revenue never waits on the cost."""
        settings = context.settings
        due = _Due()

        def hold(target: LineTarget, doc_type: str, reason: str) -> None:
            due.holds[f"{target.line_number}#{doc_type}"] = AccountingHoldRecord(
                purchase_order_id=po,
                line_number=target.line_number,
                sku=target.sku,
                document_type=doc_type,  # type: ignore[arg-type]
                reason=reason,
                held_at=iso(now) or "",
            )

        def missing(part: str, target: LineTarget, amounts: LineAmounts) -> list[str]:
            """The accounts of this part's lines (its proforma fees included) that have no nominal code."""
            scratch = Entries(context.codes)
            if part == "invoice":
                scratch.invoice(target, amounts, po)
                scratch.proforma(amounts.sales_price, settings, po)
            elif part == "cogs":
                scratch.cost(target, amounts, po)
            else:
                scratch.credit(target, amounts, po)
                scratch.proforma(-amounts.sales_price, settings, po)
            return scratch.missing()

        for target in targets:
            line = target.line_number
            if settings.get("sync_sales_order_invoices_to_accounting", True):
                revenue = invoice_due(target, posted).revenue
                if not revenue.is_zero:
                    if absent := missing("invoice", target, revenue):
                        hold(target, "invoice", missing_codes_reason(absent))
                    else:
                        due.invoices.append((target, revenue))
                        posted.invoice[line] = posted.invoice.get(line, LineAmounts()).plus(revenue)
                restock = settings.get("returned_goods", "restock") == "restock"
                changes = cost_due(target, posted, restock)
                if target.cost_missing and target.shipped:
                    hold(target, "cogs", f"Product {target.sku} has no cost: set it with PATCH /api/products/{{id}}.")
                elif changes:
                    if absent := missing("cogs", target, LineAmounts(cogs=changes[0].amount)):
                        hold(target, "cogs", missing_codes_reason(absent))
                    else:
                        for change in changes:
                            cost = LineAmounts(cogs=change.amount)
                            due.costs.append((target, cost))
                            posted.invoice[line] = posted.invoice.get(line, LineAmounts()).plus(cost)
                            counts = posted.restocked_units if change.restocked else posted.cost_units
                            counts[line] = change.total
            if settings.get("sync_sales_credit_to_accounting", True):
                # A line first seen already refunded or cancelled is invoiced and credited in this one evaluation.
                owed = credit_due(target, posted)
                if owed.is_zero:
                    continue
                if absent := missing("credit", target, owed):
                    hold(target, "credit", missing_codes_reason(absent))
                else:
                    due.credits.append((target, owed))
                    posted.credit[line] = posted.credit.get(line, LineAmounts()).plus(owed)
        return due

    def _post(
        self, context: _Context, order: dict[str, Any], targets: list[LineTarget], state: dict[str, Any] | None
    ) -> tuple[bool, bool]:
        """(done, posted a document): not done when another evaluation changed the order's postings meanwhile."""
        tenant_id, instance_id = context.tenant_id, context.instance_id
        po = str(order["purchase_order_id"])
        posted = Posted.of(state)
        version = int((state or {}).get("version") or 0)
        now = self.clock()
        due = self._due(context, po, targets, posted, now)
        holds = due.holds
        existing_holds = dict((state or {}).get("holds") or {})
        if due.empty and set(existing_holds) == set(holds):
            return True, False  # nothing new to post; holds as they were (their first reason and time kept)
        kept = {key: AccountingHoldRecord.model_validate(hold) for key, hold in existing_holds.items() if key in holds}
        holds.update(kept)  # still held: keep when and why it was first held
        documents = self._documents(context, po, order, due, now)
        actions: list[dict[str, Any]] = []
        for document in documents:
            actions += self._document_actions(tenant_id, document, now)
        # the proforma fees accrued on the order (net), and the part of them its credit notes reversed: a settlement
        # clears the sales' part when it pays the sale, the credits' part when it pays the refund
        accrued = {account: money(value) for account, value in ((state or {}).get("accrued_fees") or {}).items()}
        refunds = {account: money(value) for account, value in ((state or {}).get("accrued_refunds") or {}).items()}
        for document in documents:
            for entry in document.lines:
                if entry.account in ("marketplace_fees", "payment_fees"):
                    change = money(entry.debit) - money(entry.credit)
                    accrued[entry.account] = accrued.get(entry.account, ZERO) + change
                    if document.type == "credit":
                        refunds[entry.account] = refunds.get(entry.account, ZERO) + change
        posting = {
            "accrued_fees": {account: str(value) for account, value in accrued.items()} or None,
            "accrued_refunds": {account: str(value) for account, value in refunds.items()} or None,
            "invoice": {k: v.as_dict() for k, v in posted.invoice.items()},
            "credit": {k: v.as_dict() for k, v in posted.credit.items()},
            "cogs_units": posted.cost_units or None,
            "restocked_units": posted.restocked_units or None,
            "holds": {key: hold.model_dump() for key, hold in holds.items()} or None,
            "updated_at": iso(now),
        }
        actions.append(self.repo.posting_action(tenant_id, instance_id, po, posting, version))
        if not self.repo.commit(actions):
            return False, False
        for document in documents:
            logger.info(
                "Accounting document posted",
                extra={"document_id": document.id, "type": document.type, "period": document.period},
            )
        return True, bool(documents)

    # -- documents ----------------------------------------------------------------------------------------
    def _documents(
        self, context: _Context, po: str, order: dict[str, Any], due: _Due, now: datetime
    ) -> list[AccountingDocumentRecord]:
        """Documents (or batch lines) of one evaluation, grouped by type, reason and period; each invoice or credit
        carries the proforma fees of the sales price it posts (a credit reverses them)."""
        settings = context.settings
        groups: dict[tuple[str, str, Period], Entries] = {}
        sales_price: dict[tuple[str, str, Period], Decimal] = defaultdict(lambda: ZERO)
        sales_period = settings.get("batch_period_sales_order_fulfillments") or "immediate"
        returns_period = settings.get("batch_period_customer_returns") or "immediate"

        def group(
            doc_type: str, reason: str, period: str, target: LineTarget
        ) -> tuple[tuple[str, str, Period], Entries]:
            key = (doc_type, reason, self._period(period, target, now))
            return key, groups.setdefault(key, Entries(context.codes))

        for target, amounts in due.invoices:
            key, entries = group(
                *(("invoice", "sale") if amounts.gross >= 0 else ("credit", "correction")), sales_period, target
            )
            entries.invoice(target, amounts, po)
            sales_price[key] += amounts.sales_price
        for target, amounts in due.costs:
            if amounts.cogs >= 0:
                _, entries = group("cogs", "sale", sales_period, target)
            else:  # goods returned to stock
                _, entries = group("cogs", "return", returns_period, target)
            entries.cost(target, amounts, po)
        for target, amounts in due.credits:
            reason = target.credit_reason or "refund"
            key, entries = group(
                *(("credit", reason) if amounts.gross >= 0 else ("invoice", "correction")), returns_period, target
            )
            entries.credit(target, amounts, po)
            sales_price[key] -= amounts.sales_price
        for key, price in sales_price.items():
            groups[key].proforma(price, settings, po)
        currency = self._currency(order)
        created = iso(now) or ""
        ids = sorted(new_id() for _ in groups)  # listed in the order they were built (ids of one millisecond vary)
        return [
            AccountingDocumentRecord(
                id=document_id,
                tenant_id=context.tenant_id,
                instance_id=context.instance_id,
                type=doc_type,  # type: ignore[arg-type]
                reason=reason,  # type: ignore[arg-type]
                period=period.name,  # type: ignore[arg-type]
                period_key=period.key,
                period_end=period.end,
                currency=currency,
                purchase_order_ids=[po],
                lines=entries.lines,
                created_at=created,
                status="open",
            )
            for document_id, ((doc_type, reason, period), entries) in zip(ids, groups.items(), strict=True)
        ]

    @staticmethod
    def _currency(order: dict[str, Any]) -> str:
        for line in order.get("lines") or []:
            for charge in line.get("charges") or []:
                if charge.get("currency"):
                    return str(charge["currency"])
        return "USD"

    @staticmethod
    def _period(period: str, target: LineTarget, now: datetime) -> Period:
        """The batch period of a line's posting: by its status date (fulfilment or return), in UTC."""
        if period == "immediate":
            return Period("immediate")
        moment = now
        if target.status_date:
            moment = datetime.fromisoformat(target.status_date.replace("Z", "+00:00"))
        key, end = period_key(period, moment)
        return Period(period, key, precise_iso(end))

    def _document_actions(
        self, tenant_id: str, document: AccountingDocumentRecord, now: datetime
    ) -> list[dict[str, Any]]:
        if document.period == "immediate":
            issued = document.model_copy(
                update={
                    "period_end": None,
                    "status": "issued",
                    "issued_at": iso(now),
                    "totals": totals(document.lines),
                    "published": False,
                }
            )
            return [self.repo.issued_document_action(tenant_id, issued.item(), precise_iso(now))]
        return self.repo.batch_actions(tenant_id, document.item())

    # -- settlements ------------------------------------------------------------------------------------------
    def post_settlement(self, tenant_id: str, instance_id: str, settlement_id: str, codes: Codes) -> bool:
        """Issue the settlement's document once (``settlement_posting``); True when issued now. Its ``unexplained``
        is written on the period either way (0.00 once issued; what waits, while lines are held)."""
        from walmart_integration.services.settlement_posting import build_journal, settlement_document

        if self.settlements is None:
            return False
        period = self.settlements.period(tenant_id, instance_id, settlement_id)
        if period is None or period.status != "final" or self.repo.settled(tenant_id, instance_id, settlement_id):
            return False
        report = self.settlements.lines(tenant_id, instance_id, settlement_id)
        pos = sorted({line.purchase_order_id for line in report if line.purchase_order_id})
        postings = self.repo.postings(tenant_id, instance_id, pos)
        cleared = self.repo.clearings(tenant_id, instance_id, pos)
        now = self.clock()
        journal = build_journal(period, report, postings, cleared, codes, now)
        absent = list(dict.fromkeys(line.account for line in journal.lines if line.nominal_code_id is None))
        if absent and not journal.holds:
            journal.holds.append(
                {
                    "purchase_order_id": None,
                    "line_number": "document",
                    "sku": None,
                    "reason": missing_codes_reason(absent),
                    "amount": "",
                    "held_at": iso(now) or "",
                }
            )
        if journal.holds:
            self.repo.hold_settlement(tenant_id, instance_id, settlement_id, journal.holds)
            self.settlements.set_unexplained(tenant_id, instance_id, settlement_id, cents(journal.unexplained))
            logger.warning("Settlement held", extra={"settlement_id": settlement_id, "holds": len(journal.holds)})
            return False
        if not journal.lines:  # nothing paid, nothing deducted: no journal to post
            self.settlements.set_unexplained(tenant_id, instance_id, settlement_id, cents(journal.unexplained))
            return False
        # first, so that a retry computes the same journal; one write per order paid, CLEARING_WRITERS at a time
        with ThreadPoolExecutor(max_workers=CLEARING_WRITERS) as writers:
            list(
                writers.map(
                    lambda item: self.repo.record_clearing(tenant_id, instance_id, item[0], settlement_id, item[1]),
                    journal.clearings.items(),
                )
            )
        document = settlement_document(tenant_id, instance_id, period, journal.lines, now)
        issued = self.repo.issue_settlement(tenant_id, document.item(), settlement_id, precise_iso(now))
        self.settlements.set_unexplained(tenant_id, instance_id, settlement_id, cents(journal.unexplained))
        if issued:
            logger.info("Settlement posted", extra={"settlement_id": settlement_id, "document_id": document.id})
            self.publish_outbox()
        return issued

    # -- closing and publishing ------------------------------------------------------------------------------
    def close_batches(self) -> int:
        """Issue every open batch whose period has ended; then publish what waits in the outbox."""
        now = self.clock()
        closed = 0
        for document in self.repo.due_batches(precise_iso(now)):
            lines = AccountingDocumentRecord.model_validate(document).lines
            values = {"issued_at": iso(now), "totals": totals(lines).model_dump(), "published": False}
            if self.repo.issue(document, values, precise_iso(now)):
                closed += 1
        published = self.publish_outbox()
        if closed or published:
            logger.info("Accounting batches closed", extra={"closed": closed, "published": published})
        return closed

    def publish_outbox(self) -> int:
        published = 0
        for document in self.repo.outbox():
            view = self.view(document)
            detail = {**view.model_dump(mode="json"), "tenant_id": str(document["tenant_id"])}
            self.events.publish(EVENT_SOURCE, EVENT_TYPES[view.type], detail)
            self.repo.published(document["pk"], document["sk"])
            published += 1
        return published

    # -- reads -----------------------------------------------------------------------------------------------
    @staticmethod
    def view(item: dict[str, Any]) -> AccountingDocument:
        """A stored document as the API and the events show it."""
        document = AccountingDocumentRecord.model_validate(item)
        return AccountingDocument(
            id=document.id,
            instance_id=document.instance_id,
            type=document.type,
            reason=document.reason,
            period=document.period,
            period_key=document.period_key,
            status=document.status,
            currency=document.currency,
            issued_at=document.issued_at,
            created_at=document.created_at,
            purchase_order_ids=list(dict.fromkeys(document.purchase_order_ids)),
            settlement_id=document.settlement_id,
            lines=document.lines,
            totals=document.totals or totals(document.lines),
        )

    def documents(
        self,
        tenant_id: str,
        instance_id: str,
        limit: int,
        cursor: str | None,
        doc_type: str | None,
        period: str | None,
        status: str | None,
    ) -> tuple[list[AccountingDocument], str | None]:
        if self.instances.find(tenant_id, instance_id) is None:
            raise NotFound("Instance not found.")
        wanted = {"type": doc_type, "period": period, "status": status}
        where = {name: value for name, value in wanted.items() if value is not None}
        items, next_cursor = self.repo.page_documents(tenant_id, instance_id, limit, cursor, where)
        return [self.view(item) for item in items], next_cursor

    def holds(self, tenant_id: str, instance_id: str) -> list[AccountingHold]:
        if self.instances.find(tenant_id, instance_id) is None:
            raise NotFound("Instance not found.")
        return [
            AccountingHold(
                purchase_order_id=hold.purchase_order_id,
                line_number=hold.line_number,
                sku=hold.sku,
                type=hold.document_type,
                reason=hold.reason,
                held_at=hold.held_at,
            )
            for posting in self.repo.held(tenant_id, instance_id)
            for hold in (AccountingHoldRecord.model_validate(h) for h in (posting.get("holds") or {}).values())
        ] + [
            AccountingHold(
                purchase_order_id=hold.get("purchase_order_id"),
                line_number=f"{item['settlement_id']}#{hold['line_number']}",
                sku=hold.get("sku"),
                type="settlement",
                reason=hold["reason"],
                held_at=hold["held_at"],
            )
            for item in self.repo.settlement_holds(tenant_id, instance_id)
            for hold in item.get("holds") or []
        ]
