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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from walmart_integration.config import Settings
from walmart_integration.errors import NotFound, RetryLater
from walmart_integration.models.common import iso, new_id, precise_iso, utcnow
from walmart_integration.models.messages import AccountingJob
from walmart_integration.observability import logger
from walmart_integration.services.accounting_rules import (
    INVOICED_STATUSES,
    ZERO,
    LineAmounts,
    LineTarget,
    Posted,
    cents,
    credit_due,
    invoice_due,
    line_targets,
    money,
)

if TYPE_CHECKING:
    from walmart_integration.services.ports import (
        Catalog,
        Events,
        Instances,
        MessageQueues,
        Postings,
        ReferenceData,
        SyncedData,
    )
    from walmart_integration.worker import Delivery

CODE_SETTINGS = {
    "sales": "sales_nominal_code_id",
    "shipping_revenue": "shipping_revenue_nominal_code_id",
    "cogs": "cogs_nominal_code_id",
    "sales_returns_allowances": "sales_returns_allowances_nominal_code_id",
    "shipping_refund": "shipping_refund_nominal_code_id",
}
EVENT_TYPES = {"invoice": "SalesInvoiceIssued", "credit": "SalesCreditIssued"}
EVENT_SOURCE = "walmart-integration.accounting"
ACCOUNTED_STATUSES = INVOICED_STATUSES | {"Cancelled"}  # line statuses that may owe an invoice or a credit
ATTEMPTS = 4


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
    codes: dict[str, tuple[int, str] | None]


def _amount(value: Decimal) -> str:
    return str(cents(value))


class Entries:
    """Double-entry lines of one document; debits and credits balance by construction."""

    def __init__(self, codes: dict[str, tuple[int, str] | None]) -> None:
        self.codes = codes
        self.lines: list[dict[str, Any]] = []

    def add(self, account: str, debit: Decimal, target: LineTarget | None, po: str, description: str) -> None:
        """``debit`` > 0 debits the account, < 0 credits it."""
        if debit == 0:
            return
        code = self.codes.get(account)
        self.lines.append(
            {
                "account": account,
                "nominal_code_id": code[0] if code else None,
                "nominal_code": code[1] if code else None,
                "debit": _amount(debit) if debit > 0 else "0.00",
                "credit": _amount(-debit) if debit < 0 else "0.00",
                "purchase_order_id": po,
                "line_number": target.line_number if target else None,
                "sku": target.sku if target else None,
                "description": description,
            }
        )

    def invoice(self, target: LineTarget, amounts: LineAmounts, po: str) -> None:
        self.add("accounts_receivable", amounts.gross, target, po, "Amount due from the marketplace")
        self.add("sales", -amounts.product, target, po, "Product revenue")
        self.add("shipping_revenue", -amounts.shipping, target, po, "Shipping revenue")
        self.add("tax", -amounts.tax, target, po, "Sales tax")
        self.add("cogs", amounts.cogs, target, po, "Cost of goods sold")
        self.add("inventory", -amounts.cogs, target, po, "Inventory")

    def credit(self, target: LineTarget, amounts: LineAmounts, po: str) -> None:
        self.add("sales_returns_allowances", amounts.product, target, po, "Product refund")
        self.add("shipping_refund", amounts.shipping, target, po, "Shipping refund")
        self.add("tax", amounts.tax, target, po, "Sales tax refunded")
        self.add("accounts_receivable", -amounts.gross, target, po, "Refund owed to the customer")

    def proforma(self, gross: Decimal, settings: dict[str, Any], po: str) -> None:
        for name, account in (("marketplace", "marketplace_cost"), ("payment", "payment_cost")):
            percentage = settings.get(f"proforma_{name}_cost_percentage")
            if percentage is None or gross == 0:
                continue
            estimate = cents(gross * money(percentage) / 100)
            self.add(account, estimate, None, po, f"Estimated {name} cost ({percentage}%)")
            self.add("accrued_costs", -estimate, None, po, f"Accrued {name} cost")


def totals(lines: list[dict[str, Any]]) -> dict[str, str]:
    debit = sum((Decimal(line["debit"]) for line in lines), ZERO)
    credit = sum((Decimal(line["credit"]) for line in lines), ZERO)
    tax = sum((Decimal(line["credit"]) - Decimal(line["debit"]) for line in lines if line["account"] == "tax"), ZERO)
    receivable = sum(
        (
            Decimal(line["debit"]) - Decimal(line["credit"])
            for line in lines
            if line["account"] == "accounts_receivable"
        ),
        ZERO,
    )
    gross = abs(receivable)
    return {
        "debit": _amount(debit),
        "credit": _amount(credit),
        "gross": _amount(gross),
        "tax": _amount(abs(tax)),
        "net": _amount(gross - abs(tax)),
    }


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
        for start in range(0, len(relevant), 100):
            job = AccountingJob(
                tenant_id=tenant_id, instance_id=instance_id, purchase_order_ids=relevant[start : start + 100]
            )
            self.queues.send(self.settings.accounting_queue_url, job)

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
        if not ids:
            return
        codes = self._codes(job.tenant_id, settings)
        orders = self.synced.orders(job.tenant_id, job.instance_id, ids)
        postings = self.repo.postings(job.tenant_id, job.instance_id, list(orders))
        skus = [str(line.get("sku")) for order in orders.values() for line in order.get("lines") or []]
        costs = {
            sku: (money(p.cost) if p.cost is not None else None)
            for sku, p in self.catalog.by_skus(job.tenant_id, skus).items()
        }
        posted_any = False
        context = _Context(job.tenant_id, job.instance_id, settings, codes)
        for po, order in orders.items():
            posted_any |= self._evaluate_order(context, order, costs, postings.get(po))
        if posted_any:
            self.publish_outbox()

    def _codes(self, tenant_id: str, settings: dict[str, Any]) -> dict[str, tuple[int, str] | None]:
        wanted = {account: settings.get(name) for account, name in CODE_SETTINGS.items()}
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
    ) -> bool:
        """Post what the order owes; True when a document was posted."""
        po = str(order["purchase_order_id"])
        targets = line_targets(order, costs)
        for attempt in range(ATTEMPTS):
            if attempt:
                state = self.repo.posting(context.tenant_id, context.instance_id, po)
            done, posted = self._post(context, order, targets, state)
            if done:
                return posted
        raise RetryLater(f"Order {po}: its accounting changed concurrently; evaluated again later")

    def _post(
        self, context: _Context, order: dict[str, Any], targets: list[LineTarget], state: dict[str, Any] | None
    ) -> tuple[bool, bool]:
        """(done, posted a document): not done when another evaluation changed the order's postings meanwhile."""
        tenant_id, instance_id, settings, codes = (
            context.tenant_id,
            context.instance_id,
            context.settings,
            context.codes,
        )
        po = str(order["purchase_order_id"])
        posted = Posted.of(state)
        version = int((state or {}).get("version") or 0)
        now = self.clock()
        invoices: list[tuple[LineTarget, LineAmounts]] = []
        credits: list[tuple[LineTarget, LineAmounts]] = []
        holds: dict[str, dict[str, Any]] = {}
        for target in targets:
            if settings.get("sync_sales_order_invoices_to_accounting", True):
                due = invoice_due(target, posted)
                if not due.is_zero:
                    reason = self._invoice_hold(target, due, codes)
                    if reason:
                        holds[f"{target.line_number}#invoice"] = self._hold(po, target, "invoice", reason, now)
                    else:
                        invoices.append((target, due))
                        posted.invoice[target.line_number] = posted.invoice.get(target.line_number, LineAmounts()).plus(
                            due
                        )
            if settings.get("sync_sales_credit_to_accounting", True):
                # A line first seen already refunded or cancelled is invoiced and credited in this one evaluation.
                due = credit_due(target, posted)
                if not due.is_zero:
                    reason = self._credit_hold(due, codes)
                    if reason:
                        holds[f"{target.line_number}#credit"] = self._hold(po, target, "credit", reason, now)
                    else:
                        credits.append((target, due))
        existing_holds = dict((state or {}).get("holds") or {})
        if not invoices and not credits and set(existing_holds) == set(holds):
            return True, False  # nothing new to post; holds as they were (their first reason and time kept)
        for key, hold in existing_holds.items():
            if key in holds:
                holds[key] = hold  # still held: keep when and why it was first held
        for target, due in credits:
            posted.credit[target.line_number] = posted.credit.get(target.line_number, LineAmounts()).plus(due)
        documents = self._documents(po, order, settings, codes, invoices, credits, now)
        actions: list[dict[str, Any]] = []
        for document in documents:
            actions += self._document_actions(tenant_id, instance_id, document, now)
        posting = {
            "invoice": {k: v.as_dict() for k, v in posted.invoice.items()},
            "credit": {k: v.as_dict() for k, v in posted.credit.items()},
            "holds": holds or None,
            "updated_at": iso(now),
        }
        actions.append(self.repo.posting_action(tenant_id, instance_id, po, posting, version))
        if not self.repo.commit(actions):
            return False, False
        for document in documents:
            logger.info(
                "Accounting document posted",
                extra={"document_id": document["id"], "type": document["type"], "period": document["period"]},
            )
        return True, bool(documents)

    @staticmethod
    def _hold(po: str, target: LineTarget, doc_type: str, reason: str, now: datetime) -> dict[str, Any]:
        return {
            "type": "accounting_hold",
            "purchase_order_id": po,
            "line_number": target.line_number,
            "sku": target.sku,
            "document_type": doc_type,
            "reason": reason,
            "held_at": iso(now),
        }

    @staticmethod
    def _invoice_hold(target: LineTarget, due: LineAmounts, codes: dict[str, tuple[int, str] | None]) -> str | None:
        missing = []
        if due.product != 0 and codes.get("sales") is None:
            missing.append("sales")
        if due.shipping != 0 and codes.get("shipping_revenue") is None:
            missing.append("shipping revenue")
        if codes.get("cogs") is None:
            missing.append("cost of goods sold")
        if missing:
            return f"No {', '.join(missing)} nominal code is set on the instance (or it no longer exists)."
        if target.cost_missing:
            return f"Product {target.sku} has no cost: create it in /api/products with a cost."
        return None

    @staticmethod
    def _credit_hold(due: LineAmounts, codes: dict[str, tuple[int, str] | None]) -> str | None:
        missing = []
        if due.product != 0 and codes.get("sales_returns_allowances") is None:
            missing.append("sales returns and allowances")
        if due.shipping != 0 and codes.get("shipping_refund") is None:
            missing.append("shipping refund")
        if missing:
            return f"No {', '.join(missing)} nominal code is set on the instance (or it no longer exists)."
        return None

    # -- documents ----------------------------------------------------------------------------------------
    def _documents(
        self,
        po: str,
        order: dict[str, Any],
        settings: dict[str, Any],
        codes: dict[str, tuple[int, str] | None],
        invoices: list[tuple[LineTarget, LineAmounts]],
        credits: list[tuple[LineTarget, LineAmounts]],
        now: datetime,
    ) -> list[dict[str, Any]]:
        """Documents (or batch lines) of one evaluation, grouped by type, reason and period."""
        groups: dict[tuple[str, str, Period], Entries] = {}
        gross: dict[tuple[str, str, Period], Decimal] = defaultdict(lambda: ZERO)
        currency = self._currency(order)
        for target, due in invoices:
            doc_type, reason = ("invoice", "sale") if due.gross >= 0 else ("credit", "correction")
            period = settings.get("batch_period_sales_order_fulfillments") or "immediate"
            key = (doc_type, reason, self._period(period, target, now))
            entries = groups.setdefault(key, Entries(codes))
            entries.invoice(target, due, po)
            gross[key] += due.gross
        for invoice_key, entries in groups.items():
            entries.proforma(gross[invoice_key], settings, po)
        for target, due in credits:
            doc_type, reason = (
                ("credit", target.credit_reason or "refund") if due.gross >= 0 else ("invoice", "correction")
            )
            period = settings.get("batch_period_customer_returns") or "immediate"
            key = (doc_type, reason, self._period(period, target, now))
            groups.setdefault(key, Entries(codes)).credit(target, due, po)
        documents = []
        for (doc_type, reason, period), entries in groups.items():
            documents.append(
                {
                    "type": doc_type,
                    "reason": reason,
                    "period": period.name,
                    "period_key": period.key,
                    "period_end": period.end,
                    "currency": currency,
                    "purchase_order_ids": [po],
                    "lines": entries.lines,
                    "id": new_id(),
                }
            )
        return documents

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
        self, tenant_id: str, instance_id: str, document: dict[str, Any], now: datetime
    ) -> list[dict[str, Any]]:
        document = {**document, "tenant_id": tenant_id, "instance_id": instance_id, "created_at": iso(now)}
        if document["period"] == "immediate":
            document.pop("period_end", None)
            issued = {
                **document,
                "status": "issued",
                "issued_at": iso(now),
                "totals": totals(document["lines"]),
                "published": False,
            }
            return [self.repo.issued_document_action(tenant_id, issued, precise_iso(now))]
        return self.repo.batch_actions(tenant_id, {**document, "status": "open"})

    # -- closing and publishing ------------------------------------------------------------------------------
    def close_batches(self) -> int:
        """Issue every open batch whose period has ended; then publish what waits in the outbox."""
        now = self.clock()
        closed = 0
        for document in self.repo.due_batches(precise_iso(now)):
            values = {"issued_at": iso(now), "totals": totals(document.get("lines") or []), "published": False}
            if self.repo.issue(document, values, precise_iso(now)):
                closed += 1
        published = self.publish_outbox()
        if closed or published:
            logger.info("Accounting batches closed", extra={"closed": closed, "published": published})
        return closed

    def publish_outbox(self) -> int:
        published = 0
        for document in self.repo.outbox():
            tenant_id = str(document["tenant_id"])
            self.events.publish(
                EVENT_SOURCE, EVENT_TYPES[document["type"]], {**self.view(document), "tenant_id": tenant_id}
            )
            self.repo.published(document["pk"], document["sk"])
            published += 1
        return published

    # -- reads -----------------------------------------------------------------------------------------------
    @staticmethod
    def view(document: dict[str, Any]) -> dict[str, Any]:
        lines = document.get("lines") or []
        return {
            "id": document["id"],
            "instance_id": document["instance_id"],
            "type": document["type"],
            "reason": document.get("reason") or "sale",
            "period": document["period"],
            "period_key": document.get("period_key"),
            "status": document["status"],
            "currency": document.get("currency") or "USD",
            "issued_at": document.get("issued_at"),
            "created_at": document["created_at"],
            "purchase_order_ids": list(dict.fromkeys(document.get("purchase_order_ids") or [])),
            "lines": lines,
            "totals": document.get("totals") or totals(lines),
        }

    def documents(
        self,
        tenant_id: str,
        instance_id: str,
        limit: int,
        cursor: str | None,
        doc_type: str | None,
        period: str | None,
        status: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        if self.instances.find(tenant_id, instance_id) is None:
            raise NotFound("Instance not found.")
        items, next_cursor = self.repo.page_documents(tenant_id, instance_id, limit, cursor)
        views = [self.view(item) for item in items]
        views = [
            v
            for v in views
            if (doc_type is None or v["type"] == doc_type)
            and (period is None or v["period"] == period)
            and (status is None or v["status"] == status)
        ]
        return views, next_cursor

    def holds(self, tenant_id: str, instance_id: str) -> list[dict[str, Any]]:
        if self.instances.find(tenant_id, instance_id) is None:
            raise NotFound("Instance not found.")
        return [
            {
                "purchase_order_id": hold["purchase_order_id"],
                "line_number": hold["line_number"],
                "sku": hold.get("sku"),
                "type": hold["document_type"],
                "reason": hold["reason"],
                "held_at": hold["held_at"],
            }
            for posting in self.repo.held(tenant_id, instance_id)
            for hold in (posting.get("holds") or {}).values()
        ]
