"""Walmart's authorize page (login.account.wal-mart.com/authorize): the consent a seller gives a solution provider's
app, in HTML, answered by a plain form (oauth.py holds the rules and the pages)."""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, request

from .marketplace import get_state
from .oauth import ConsentRequest, consent_page, error_page, with_query
from .state import DEMO_SELLER_ID

bp = Blueprint("walmart_consent", __name__)

HTML = "text/html; charset=utf-8"


def _page(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.get("/authorize")
def authorize() -> Response:
    """The authorization request page: Authorize or Decline, as the demo seller (or the seller picked in its list)."""
    g.endpoint = "GET /authorize"
    state = get_state()
    with state.lock:
        opened = state.oauth.open_consent(request.args.to_dict(), state.clock())
        if not isinstance(opened, ConsentRequest):
            message, redirect_uri = opened
            g.outcome = f"refused:{message}"
            if redirect_uri is None:
                return _page(error_page(message), 400)
            params = {"error": message}
            if request.args.get("state"):
                params["state"] = request.args["state"]
            return redirect(with_query(redirect_uri, params), 302)  # type: ignore[return-value]
        app = state.oauth.apps[opened.client_id]
        sellers = [(s.seller_id, f"Seller {s.seller_id}") for s in state.sellers.values()]
    return _page(consent_page(opened, app, sellers, DEMO_SELLER_ID))


@bp.post("/authorize")
def decide() -> Response:
    """The seller's Authorize or Decline: the browser goes back to the app's redirect URI."""
    g.endpoint = "POST /authorize"
    state = get_state()
    seller_id = request.form.get("seller_id") or DEMO_SELLER_ID
    decision = request.form.get("decision")
    if decision not in ("authorize", "decline") or state.seller(seller_id) is None:
        g.outcome = "bad_request"
        return _page(error_page("The authorization request is incomplete."), 400)
    g.seller_id = seller_id
    with state.lock:
        try:
            location = state.oauth.decide(
                request.form.get("request_id", ""),
                seller_id,
                decision == "authorize",
                state.clock(),
                state.faults.auth_code_ttl_seconds,
            )
        except KeyError:
            g.outcome = "refused:request"
            return _page(error_page("This authorization request was already answered or has expired."), 400)
    return redirect(location, 302)  # type: ignore[return-value]
