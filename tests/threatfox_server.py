"""A real HTTP server on 127.0.0.1 that plays ThreatFox: the API (POST /api/v1/) and the CSV
exports (GET /export/csv/recent/, /export/csv/full/). Tests script faults per request."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).parent / "data"
KEY = "tfk-Secret-0123456789abcdefABCDEF"  # the key the server accepts
WRONG_KEY = "tfk-Wrong-9876543210fedcbaFEDCBA"


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line (a slow server)
    cut_at: int | None = None  # send only this many body bytes, then hang up


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    at: float


def _json(doc: object) -> bytes:
    return json.dumps(doc).encode()


class FakeThreatFox:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: list[Reply] = []  # consumed one per request before normal routing
        self.release = threading.Event()  # set on close: ends scripted delays early
        self.malwareinfo = (DATA / "malwareinfo_purerat.json").read_bytes()
        self.malware_list = (DATA / "malware_list.json").read_bytes()
        self.recent_csv = (DATA / "threatfox_recent_export_snippet.csv").read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("full.csv", self.recent_csv)
        self.full_zip = buffer.getvalue()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a client that timed out and left is expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- routing ---------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        self.requests.append(Seen(handler.command, handler.path, dict(handler.headers.items()),
                                  body, time.monotonic()))
        reply = self.script.pop(0) if self.script else self._route(handler, body)
        self._send(handler, reply)

    def _route(self, handler: BaseHTTPRequestHandler, body: dict | None) -> Reply:
        if handler.headers.get("Auth-Key") != KEY:
            return Reply(401, {"query_status": "unknown_auth_key", "data": None})
        if handler.command == "GET":
            if handler.path == "/export/csv/recent/":
                return Reply(200, self.recent_csv, {"Content-Type": "text/plain"})
            if handler.path == "/export/csv/full/":
                return Reply(200, self.full_zip, {"Content-Type": "application/zip"})
            return Reply(404, b"not found")
        if handler.path != "/api/v1/" or not isinstance(body, dict):
            return Reply(404, b"not found")
        query = body.get("query")
        if query == "malware_list":
            return Reply(200, self.malware_list)
        if query == "malwareinfo":
            if body.get("malware") == "win.pure_rat":
                return Reply(200, self.malwareinfo)
            return Reply(200, {"query_status": "illegal_malware",
                               "data": "Malware not found"})
        if query in ("get_iocs", "taginfo"):
            return Reply(200, self.malwareinfo)
        if query == "search_ioc":
            if body.get("search_term") == "dev-tokyotechie.com":
                doc = json.loads(self.malwareinfo)
                doc["data"] = [r for r in doc["data"] if r["ioc"] == "dev-tokyotechie.com"]
                return Reply(200, doc)
            return Reply(200, {"query_status": "no_result", "data": "Your search did not "
                               "yield any results"})
        if query == "ioc":  # ThreatFox answers this one with a bare object
            record = json.loads(self.malwareinfo)["data"][0]
            return Reply(200, {**record, "malware_samples": [], "comment": None})
        return Reply(200, {"query_status": "unknown_operation", "data": None})

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay:
            self.release.wait(reply.delay)
        body = reply.body
        if isinstance(body, dict):
            body = _json(body)
        elif isinstance(body, str):
            body = body.encode()
        try:
            handler.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            if reply.cut_at is not None:
                handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(body if reply.cut_at is None else body[: reply.cut_at])
            handler.wfile.flush()
        except OSError:
            return  # the client gave up (timeout test)
        if reply.cut_at is not None:
            handler.close_connection = True
