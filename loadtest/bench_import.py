"""How long a CSV upload holds a web request (security probe, issue "Step 2", item 3).

Posts the probe's two files to a running server, as a staff login, several at once:

- ``columns``: a header of 45,000 columns (304 KB), which killed both gunicorn workers
  before the fix (the duplicate-column check was quadratic); now refused at once;
- ``rows``: 50,000 families (about 4.5 MB), stored and handed to a Celery task.

and prints each request's time. The goal: no upload holds a request for more than 2 s.
With ``--follow`` it then follows the 50,000-row check on its page (the htmx status part)
until the worker is done, and prints how long the worker took; with ``--confirm`` too, it
confirms the import and follows that as well.

Standard library only; the server and its worker are started by ``loadtest/bench_import.sh``
(or run it against any server: ``--url``, ``--email``, ``--password``).
"""

import argparse
import re
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

COLUMNS = (
    "family_name,parent_name,parent_email,parent_phone,child_first_name,child_last_name,"
    "child_date_of_birth,class_name,enrolment_start"
)
LIMIT_SECONDS = 2.0


def wide_header(columns: int = 45_000) -> bytes:
    return (",".join(f"c{i}" for i in range(columns)) + "\r\n").encode()


def many_rows(rows: int = 50_000) -> bytes:
    tag = uuid.uuid4().hex[:6]  # new families on every run
    lines = [COLUMNS] + [
        f"Bench{tag}{i},Parent {i},bench{tag}.{i}@example.com,,Kid,Bench{tag}{i},2018-03-14,,"
        for i in range(rows)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


class PlainHttpCookies(DefaultCookiePolicy):
    """The server runs as in production (secure cookies) but the benchmark talks plain HTTP
    to it on this machine: send its cookies anyway."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Session:
    """A logged-in browser: cookies, CSRF token, no redirects followed."""

    def __init__(self, base: str) -> None:
        if not base.startswith(("http://", "https://")):
            sys.exit(f"--url must be http(s)://…, not {base!r}")
        self.base = base.rstrip("/")
        self.jar = CookieJar(PlainHttpCookies())
        self.opener = build_opener(HTTPCookieProcessor(self.jar), NoRedirect())

    def _open(self, request: Request):
        try:  # only http(s) URLs reach here (checked in __init__)
            return self.opener.open(request, timeout=300)
        except HTTPError as response:  # 302 and errors alike: a response
            return response

    def get(self, path: str, headers: dict | None = None):
        return self._open(Request(self.base + path, headers=headers or {}))  # noqa: S310

    def post(self, path: str, fields: dict):
        data = urlencode(fields).encode()
        request = Request(  # noqa: S310 - http(s) only, checked in __init__
            self.base + path, data=data, headers={"Referer": self.base + path}
        )
        return self._open(request)

    def csrf(self, path: str) -> str:
        html = self.get(path).read().decode()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def login(self, email: str, password: str) -> None:
        token = self.csrf("/accounts/login/")
        response = self.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": email, "password": password},
        )
        if response.status != 302:
            sys.exit(f"Login as {email} failed (HTTP {response.status}).")

    def upload(self, content: bytes, name: str) -> tuple[float, int, str]:
        """POST the file; returns (seconds, status, where it redirects or the page's message)."""
        token = self.csrf("/manage/families/import/")
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"'
                f"\r\n\r\n{token}\r\n".encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'.encode(),
                content,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        request = Request(  # noqa: S310 - http(s) only, checked in __init__
            self.base + "/manage/families/import/",
            data=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Referer": self.base + "/manage/families/import/",
            },
        )
        started = time.perf_counter()
        response = self._open(request)
        page = response.read().decode(errors="replace")
        seconds = time.perf_counter() - started
        if response.status == 302:
            return seconds, 302, response.headers["Location"]
        found = re.search(r'id="error_1_id_file"[^>]*>\s*(?:<strong>)?([^<]+)', page)
        return seconds, response.status, (found.group(1).strip() if found else page[:120])


def follow(session: Session, path: str, timeout: float) -> None:
    """Poll the import's status part (as htmx does) until the worker is done."""
    started = time.perf_counter()
    last = ""
    while time.perf_counter() - started < timeout:
        html = session.get(path, headers={"HX-Request": "true"}).read().decode()
        done = re.search(r'role="status">([^<]+)<', html)
        if done and done.group(1) != last:
            last = done.group(1)
            print(f"  {time.perf_counter() - started:7.1f} s  {last.strip()}")
        if "hx-trigger" not in html:
            title = re.search(r'<h1 class="h3">([^<]+)<', html)
            print(
                f"worker done in {time.perf_counter() - started:.1f} s: "
                f"{title.group(1) if title else html[:120]}"
            )
            return
        time.sleep(2)


def run(args) -> int:
    files = {"columns": (wide_header(), "wide-header.csv"), "rows": (many_rows(), "rows.csv")}
    sessions = []
    for _ in range(args.concurrency):
        session = Session(args.url)
        session.login(args.email, args.password)
        sessions.append(session)
    worst = 0.0
    followed = None
    print(f"{'file':8} {'size':>9} {'request':>8} {'seconds':>8}  answer")
    for label, (content, name) in files.items():
        with ThreadPoolExecutor(args.concurrency) as pool:
            n = len(sessions)
            results = list(pool.map(Session.upload, sessions, [content] * n, [name] * n))
        for number, (seconds, status, answer) in enumerate(results, 1):
            worst = max(worst, seconds)
            size = f"{len(content) / 1024:,.0f} KB"
            print(f"{label:8} {size:>9} {number:>8} {seconds:8.3f}  {status} {answer[:90]}")
            if label == "rows" and status == 302 and followed is None:
                followed = (sessions[number - 1], answer)
    print(f"slowest request: {worst:.3f} s (limit {LIMIT_SECONDS} s)")
    if args.follow and followed is not None:
        session, path = followed
        path = path.replace(args.url.rstrip("/"), "")
        follow(session, path, args.follow_timeout)
        if args.confirm:
            token = session.csrf(path)
            started = time.perf_counter()
            response = session.post(path + "confirm/", {"csrfmiddlewaretoken": token})
            print(f"confirm: {time.perf_counter() - started:.3f} s, HTTP {response.status}")
            follow(session, path, args.follow_timeout)
    return 0 if worst <= LIMIT_SECONDS else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8812")
    parser.add_argument("--email", default="staff@riverside.example")
    parser.add_argument("--password", default="makeup-demo")
    parser.add_argument("--concurrency", type=int, default=2, help="uploads at once (2)")
    parser.add_argument("--follow", action="store_true", help="follow the rows' check")
    parser.add_argument("--confirm", action="store_true", help="then confirm it and follow")
    parser.add_argument("--follow-timeout", type=float, default=1800)
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
