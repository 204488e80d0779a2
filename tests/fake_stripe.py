"""A local fake of Stripe's HTTP API, for the tests: no test talks to the internet.

A small threaded ``http.server`` on 127.0.0.1 answering the Checkout session endpoints the
way Stripe does (form-encoded requests with bracketed keys, JSON answers in Stripe's shape,
errors as ``{"error": {...}}`` with Stripe's status codes), so the real ``stripe`` library is
exercised end to end: point it here with ``STRIPE_API_BASE = fake.url``.

- ``POST /v1/checkout/sessions`` creates an open, unpaid session (the same Idempotency-Key
  gives the same session back, as Stripe does); a wrong secret key is a 401.
- ``GET /v1/checkout/sessions/<id>`` returns it; an unknown id is a 404.
- :meth:`FakeStripe.complete` marks a session paid and returns the
  ``checkout.session.completed`` event Stripe would send to the webhook.
- :meth:`FakeStripe.refuse_next` makes the next request fail with a given status.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qsl


def unflatten(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding back into nested values: ``a[b][0][c]=1`` → ``{"a": {"b":
    [{"c": "1"}]}}`` (a level whose keys are all numbers is a list)."""
    root: dict = {}
    for key, value in pairs:
        *parents, last = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return _lists(root)


def _lists(node):
    """Dicts whose keys are all numbers become lists (in order)."""
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


class FakeStripe:
    """Start with ``with FakeStripe(secret_key=...) as fake:``; ``fake.url`` is its base."""

    def __init__(self, *, secret_key: str) -> None:
        self.secret_key = secret_key
        self.sessions: dict[str, dict] = {}
        self.requests: list[dict] = []  # method, path, headers, form (nested) of each call
        self._idempotent: dict[str, str] = {}
        self._refusals: list[tuple[int, dict]] = []
        self._ids = count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeStripe":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- what a test does -------------------------------------------------------------------

    def refuse_next(self, status: int, *, type_: str, message: str, code: str = "") -> None:
        """The next request gets Stripe's error answer ``status`` instead."""
        error = {"type": type_, "message": message}
        if code:
            error["code"] = code
        self._refusals.append((status, {"error": error}))

    def complete(self, session_id: str, *, created: int) -> dict:
        """The parent paid on Stripe's page: the session is complete and paid, and this is
        the event Stripe sends to the webhook endpoint."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid")
            return {
                "id": f"evt_test_{next(self._ids)}",
                "object": "event",
                "api_version": "2026-01-01",
                "created": created,
                "livemode": False,
                "pending_webhooks": 1,
                "type": "checkout.session.completed",
                "data": {"object": json.loads(json.dumps(session))},
            }

    # --- Stripe's side ----------------------------------------------------------------------

    def _create_session(self, form: dict) -> tuple[int, dict]:
        missing = [name for name in ("mode", "success_url", "line_items") if name not in form]
        if missing:
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "code": "parameter_missing",
                    "param": missing[0],
                    "message": f"Missing required param: {missing[0]}.",
                }
            }
        items = form["line_items"]
        total = sum(
            int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items
        )
        session_id = f"cs_test_{next(self._ids):04d}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": form.get("cancel_url"),
            "client_reference_id": form.get("client_reference_id"),
            "currency": items[0]["price_data"]["currency"],
            "livemode": False,
            "metadata": form.get("metadata", {}),
            "mode": form["mode"],
            "payment_status": "unpaid",
            "status": "open",
            "success_url": form["success_url"],
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return 200, session

    def _answer(self, method: str, path: str, headers: dict, form: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "headers": headers, "form": form})
            if self._refusals:
                return self._refusals.pop(0)
            if headers.get("Authorization") != f"Bearer {self.secret_key}":
                return 401, {
                    "error": {"type": "invalid_request_error", "message": "Invalid API Key."}
                }
            if method == "POST" and path == "/v1/checkout/sessions":
                key = headers.get("Idempotency-Key", "")
                if key in self._idempotent:
                    return 200, self.sessions[self._idempotent[key]]
                status, body = self._create_session(form)
                if status == 200 and key:
                    self._idempotent[key] = body["id"]
                return status, body
            found = re.fullmatch(r"/v1/checkout/sessions/([\w-]+)", path)
            if method == "GET" and found:
                if found[1] in self.sessions:
                    return 200, self.sessions[found[1]]
                return 404, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": f"No such checkout.session: '{found[1]}'",
                    }
                }
            return 404, {
                "error": {"type": "invalid_request_error", "message": f"Unrecognized: {path}"}
            }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                path, _, query = self.path.partition("?")
                form = unflatten(parse_qsl(body or query, keep_blank_values=True))
                status, answer = fake._answer(method, path, dict(self.headers), form)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_test_{len(fake.requests)}")
                if status >= 400:  # as Stripe: a refusal is final, not worth a retry
                    self.send_header("Stripe-Should-Retry", "false")
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                self._reply("POST")

            def do_GET(self):
                self._reply("GET")

            def log_message(self, format, *args):  # quiet
                return

        return Handler
