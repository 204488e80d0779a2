"""A local fake of Twilio's Messages API, for the SMS tests (never the internet).

``FakeTwilio().start()`` serves ``POST /2010-04-01/Accounts/<sid>/Messages.json`` on
127.0.0.1 (a random port) in a thread, the way Twilio does: HTTP basic auth with the
account SID and auth token, a form body (``To``, ``From``, ``Body``, ``StatusCallback``), a
JSON answer with the message's ``sid``. ``fail_next(status, code)`` makes the next requests
fail (a 5xx is a server error, a 4xx a refusal, as Twilio's); ``down = True`` fails them
all. ``sent`` holds what it took.
"""

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.sent: list[dict] = []
        self.requests = 0
        self._failures: list[tuple[int, int]] = []
        #: While true every request fails with 503 (the provider is down).
        self.down = False
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, status: int, code: int = 0, times: int = 1) -> None:
        with self._lock:
            self._failures += [(status, code)] * times

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                expected_path = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
                credentials = base64.b64encode(
                    f"{fake.account_sid}:{fake.auth_token}".encode()
                ).decode()
                with fake._lock:
                    fake.requests += 1
                    failure = fake._failures.pop(0) if fake._failures else None
                    if fake.down:
                        failure = (503, 0)
                if self.path != expected_path:
                    return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
                if self.headers.get("Authorization") != f"Basic {credentials}":
                    return self._answer(
                        401, {"code": 20003, "message": "Authenticate", "status": 401}
                    )
                if failure:
                    status, code = failure
                    return self._answer(
                        status, {"code": code or None, "message": "Fake failure", "status": status}
                    )
                sid = "SM" + uuid.uuid4().hex
                with fake._lock:
                    fake.sent.append({**form, "sid": sid})
                self._answer(
                    201,
                    {
                        "sid": sid,
                        "account_sid": fake.account_sid,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                    },
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


SID, TOKEN = "AC" + "1" * 32, "fake-auth-token"


def connect(settings, company, owner, now) -> FakeTwilio:
    """Start a fake, point the Twilio client at it and connect ``company``'s account."""
    from django_scopes import scope

    from makeup.notifications.services import sms_provider_connect

    fake = FakeTwilio(SID, TOKEN).start()
    settings.TWILIO_API_URL = fake.url
    settings.SITE_URL = "https://school.example"
    with scope(company=company):
        sms_provider_connect(
            company=company,
            account_sid=SID,
            auth_token=TOKEN,
            from_number="+61400000000",
            actor=owner,
            now=now,
        )
    return fake
