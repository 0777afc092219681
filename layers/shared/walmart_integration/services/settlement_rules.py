"""How each line of Walmart's reconciliation report posts: (transaction type, amount type) -> account, in one place.

Sources: the report's rows and columns, docs/walmart/specs/marketplace__reports.openapi.yml (``reconFileJson`` 200
example: the ``PaymentSummary`` row whose ``Total Payable`` is "Deposited in account", a ``Sale`` row with ``Amount
Type`` "Product Price"); Walmart's guide "Marketplace and WFS payment report overview" (marketplacelearn.walmart.com,
WFS basics): ``Total Payable`` "is the sum of all transactions reflected in Amount"; ``Transaction Type`` says whether
a row is a debit or a credit: ``Sale`` (credited to the seller), ``Refund``, ``Adjustment`` (fees, corrections,
reimbursements, WFS fees among them), ``Reserve`` ("funds debited from your account to cover for future refunds") and
``Release Reserve`` ("funds credited against a previous account reserve"); the ``Amount Type`` names the part of the
price or fee (Product Price, Product tax, Shipping Price, Shipping tax, Commission on Product, ...). Tax Walmart
collects as marketplace facilitator is shown with its withholding (docs/walmart/FACTS.md "Sales tax: Walmart is the
marketplace facilitator"; the emulator's rows ``Product tax withheld`` / ``Shipping tax withheld`` follow that).
An ``Amount`` is signed from the seller's side: positive is paid to the seller, negative is deducted.

Roles:
- ``receivable``: what the customer paid for an order (price, shipping and their tax) clears the receivable our
  invoice debited (a refund row, negative, clears the credit our credit note posted);
- ``facilitator_tax``: the tax Walmart withheld: the facilitator-tax liability our invoice credited is discharged;
- ``commission``: Walmart's actual referral fee: it replaces the proforma accrual of the order, the difference on the
  fee account;
- ``wfs_fees``, ``adjustments``, ``reserves``: straight to their codes.
Anything else is not classified: held with its reason, never dropped.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from walmart_integration.models.settlements import SettlementLine

Role = Literal["receivable", "facilitator_tax", "commission", "wfs_fees", "adjustments", "reserves"]

ORDER_TRANSACTIONS = {"sale", "refund"}
RECEIVABLE_AMOUNTS = {"product price", "product tax", "shipping price", "shipping tax"}
WITHHELD_AMOUNTS = {"product tax withheld", "shipping tax withheld"}
COMMISSION_AMOUNTS = {"commission on product", "commission on shipping"}
RESERVE_TRANSACTIONS = {"reserve", "release reserve"}

# the account each role posts to (the instance's <account>_nominal_code_id)
ROLE_ACCOUNTS: dict[Role, str] = {
    "receivable": "accounts_receivable",
    "facilitator_tax": "facilitator_tax",
    "commission": "marketplace_fees",
    "wfs_fees": "wfs_fees",
    "adjustments": "adjustments",
    "reserves": "reserves",
}


class Classified(NamedTuple):
    role: Role | None
    reason: str | None  # why the line is held (role None)


def _name(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def classify(line: SettlementLine) -> Classified:
    """The role of one report line (not the PaymentSummary row: that is the deposit)."""
    kind, amount_type = _name(line.transaction_type), _name(line.amount_type)
    if line.amount is None:
        return Classified(None, f"Line {line.position}: its amount cannot be read ({line.columns.get('Amount')!r}).")
    if kind in ORDER_TRANSACTIONS:
        if not line.purchase_order_id:
            return Classified(None, f"Line {line.position}: a {line.transaction_type} without a purchase order.")
        if amount_type in RECEIVABLE_AMOUNTS:
            return Classified("receivable", None)
        if amount_type in WITHHELD_AMOUNTS:
            return Classified("facilitator_tax", None)
        if amount_type in COMMISSION_AMOUNTS:
            return Classified("commission", None)
    if kind == "adjustment" or (kind in ORDER_TRANSACTIONS and "wfs" in amount_type):
        return Classified("wfs_fees" if "wfs" in amount_type else "adjustments", None)
    if kind in RESERVE_TRANSACTIONS:
        return Classified("reserves", None)
    return Classified(
        None,
        f"Line {line.position}: transaction type {line.transaction_type!r} with amount type {line.amount_type!r} "
        "has no account.",
    )
