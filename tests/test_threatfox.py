"""The ThreatFox client and `foxhunt fetch`, end to end against a real HTTP server on loopback.

Every fault must end in a typed error (in process) or exit 1 with one line (CLI), leave the
store byte-for-byte as it was, and never show the Auth-Key.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.threatfox_server import KEY, WRONG_KEY, FakeThreatFox, Reply
from tui.core.config import DEFAULT_API_URL, ThreatFoxSettings
from tui.core.model import IocType, count_by_type
from tui.sources.files import load_files
from tui.sources.loading import fetch_to_store
from tui.sources.store import Store
from tui.sources.threatfox import (
    ProgressPrinter,
    ThreatFoxAuthError,
    ThreatFoxClient,
    ThreatFoxError,
    ThreatFoxNetworkError,
    ThreatFoxQueryError,
    ThreatFoxResponseError,
    export_base_for,
    resolve_settings,
)

BACKOFF = 0.01  # seconds: real exponential backoff, shrunk so the suite stays fast


@pytest.fixture
def server():
    fake = FakeThreatFox()
    yield fake
    fake.close()


def client_for(server: FakeThreatFox, key: str = KEY, timeout: float = 5.0,
               **kwargs) -> ThreatFoxClient:
    settings = ThreatFoxSettings(api_url=server.api_url, auth_key=key, timeout=timeout)
    return ThreatFoxClient(settings, backoff=BACKOFF, environ={}, **kwargs)


def snapshot(path: Path) -> tuple[bytes, str] | None:
    """The store file's bytes and its SQL dump; None when there is no store."""
    if not path.exists():
        return None
    data = path.read_bytes()
    db = sqlite3.connect(path)
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    return data, dump


def filled_store(path: Path, data_dir: Path) -> None:
    with Store(path) as store:
        store.import_dataset(load_files([data_dir / "threatfox_recent_export_snippet.csv"]),
                             "import threatfox_recent_export_snippet.csv")


# -- the client, in process -------------------------------------------------------------------


async def test_malwareinfo_success_and_request_shape(server):
    async with client_for(server) as tf:
        data = await tf.malwareinfo("win.pure_rat")
    assert count_by_type(data.iocs) == {IocType.DOMAIN: 3, IocType.URL: 6, IocType.IP_PORT: 2,
                                        IocType.SHA256: 2}
    assert data.find_family("PureHVNC").key == "win.pure_rat"
    assert data.sources == ["ThreatFox malwareinfo win.pure_rat"]
    [seen] = server.requests
    assert (seen.method, seen.path) == ("POST", "/api/v1/")
    assert seen.headers["Auth-Key"] == KEY
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.body == {"query": "malwareinfo", "malware": "win.pure_rat", "limit": 1000}


async def test_every_query_sends_its_documented_body(server):
    async with client_for(server) as tf:
        families = await tf.malware_list()
        recent = await tf.get_iocs(7)
        found = await tf.search_ioc("dev-tokyotechie.com")
        nothing = await tf.search_ioc("nothing.example", exact_match=False)
        tagged = await tf.taginfo("ClickFix", limit=50)
        one = await tf.ioc(1816735)
    assert len(families.families) == 13 and families.iocs == []
    assert len(recent.iocs) == 13 and len(tagged.iocs) == 13
    assert [i.value for i in found.iocs] == ["dev-tokyotechie.com"]
    assert nothing.iocs == [] and nothing.rejected == []  # no_result is empty, not an error
    assert [(i.value, i.threatfox_id) for i in one.iocs] == [("192.0.2.45:56001", "1816735")]
    assert [r.body for r in server.requests] == [
        {"query": "malware_list"},
        {"query": "get_iocs", "days": 7},
        {"query": "search_ioc", "search_term": "dev-tokyotechie.com", "exact_match": True},
        {"query": "search_ioc", "search_term": "nothing.example", "exact_match": False},
        {"query": "taginfo", "tag": "ClickFix", "limit": 50},
        {"query": "ioc", "id": 1816735},
    ]
    assert all(r.headers.get("Auth-Key") == KEY for r in server.requests)


async def test_out_of_range_arguments_are_refused_before_sending(server):
    async with client_for(server) as tf:
        with pytest.raises(ValueError):
            await tf.get_iocs(8)
        with pytest.raises(ValueError):
            await tf.malwareinfo("win.pure_rat", limit=1001)
    assert server.requests == []


async def test_429_with_retry_after_is_honoured(server):
    server.script = [Reply(429, b"slow down", {"Retry-After": "1"})]
    async with client_for(server) as tf:
        data = await tf.malwareinfo("win.pure_rat")
    assert len(data.iocs) == 13
    first, second = server.requests
    assert second.at - first.at >= 0.95  # the backoff alone would wait ~0.02 s


async def test_503_twice_then_success(server):
    server.script = [Reply(503, b"busy"), Reply(503, b"busy")]
    async with client_for(server) as tf:
        data = await tf.malwareinfo("win.pure_rat")
    assert len(data.iocs) == 13 and len(server.requests) == 3


async def test_500_until_the_retries_run_out(server):
    server.script = [Reply(500, b"<h1>oops</h1>")] * 5
    async with client_for(server) as tf:
        with pytest.raises(ThreatFoxNetworkError) as caught:
            await tf.malwareinfo("win.pure_rat")
    assert len(server.requests) == 3  # bounded: one try and two retries
    assert "HTTP 500" in str(caught.value) and "3 times" in str(caught.value)


async def test_read_timeout_is_one_clear_error(server):
    server.script = [Reply(200, b"{}", delay=5)]
    async with client_for(server, timeout=0.3) as tf:
        with pytest.raises(ThreatFoxNetworkError) as caught:
            await tf.malwareinfo("win.pure_rat")
    assert "timed out" in str(caught.value) and "--timeout" in str(caught.value)
    assert len(server.requests) == 1  # a read timeout is not retried


async def test_body_cut_off_mid_answer(server):
    server.script = [Reply(200, server.malwareinfo, cut_at=300)]
    async with client_for(server) as tf:
        with pytest.raises(ThreatFoxResponseError, match="cut off"):
            await tf.malwareinfo("win.pure_rat")


async def test_truncated_json_with_a_consistent_length(server):
    server.script = [Reply(200, server.malwareinfo[:300])]
    async with client_for(server) as tf:
        with pytest.raises(ThreatFoxResponseError, match="truncated JSON"):
            await tf.malwareinfo("win.pure_rat")


@pytest.mark.parametrize("body", [
    b"<html><body>Bad gateway</body></html>",
    b"[" * 100_000,  # nesting that would blow the recursion limit
    b"1" * 5000,  # an integer past Python's digit limit
    b'"just a string"',
    b"\xff\xfe\x00garbage",
], ids=["html", "deep-nesting", "huge-int", "bare-string", "binary"])
async def test_malformed_answers_are_clear_errors(server, body):
    server.script = [Reply(200, body)]
    async with client_for(server) as tf:
        with pytest.raises(ThreatFoxResponseError) as caught:
            await tf.malwareinfo("win.pure_rat")
    assert "ThreatFox" in str(caught.value)


async def test_illegal_malware_is_a_query_error(server):
    async with client_for(server) as tf:
        with pytest.raises(ThreatFoxQueryError) as caught:
            await tf.malwareinfo("win.nope")
    assert caught.value.status == "illegal_malware"
    assert "win.nope" in str(caught.value) and "illegal_malware" in str(caught.value)


@pytest.mark.parametrize("status", ["illegl_hash", "illegal_hash", "illegal_search_term",
                                    "illegal_tag", "unknown_operation"])
async def test_other_api_errors_keep_their_status(server, status):
    server.script = [Reply(200, {"query_status": status,
                                 "data": "bad \x1b[31mterm\x07 \u202e"})]
    async with client_for(server) as tf:
        with pytest.raises(ThreatFoxQueryError) as caught:
            await tf.search_ioc("x")
    assert caught.value.status == status
    text = str(caught.value)
    assert status in text and "\x1b" not in text and "\x07" not in text


@pytest.mark.parametrize("reply", [
    None,  # the server itself refuses the wrong key: 401 unknown_auth_key
    Reply(403, {"query_status": "auth_key_required", "data": None}),
    Reply(403, b"Forbidden"),
    Reply(200, {"query_status": "no_api_key"}),
    Reply(200, {"query_status": "unauthorized", "data": "Unauthorized"}),
    Reply(200, {"query_status": "user_blacklisted"}),
])
async def test_auth_failures_say_what_to_do_without_the_key(server, reply):
    if reply is not None:
        server.script = [reply]
    async with client_for(server, key=WRONG_KEY) as tf:
        with pytest.raises(ThreatFoxAuthError) as caught:
            await tf.malwareinfo("win.pure_rat")
    text = str(caught.value)
    assert WRONG_KEY not in text and KEY not in text and "tfk-" not in text
    if "blacklisted" in text:
        assert "abuse.ch" in text
    else:
        assert "https://auth.abuse.ch/" in text and "THREATFOX_AUTH_KEY" in text
    assert len(server.requests) == 1  # auth failures are not retried


async def test_no_key_fails_before_any_request(server):
    async with client_for(server, key="") as tf:
        with pytest.raises(ThreatFoxAuthError, match="no ThreatFox Auth-Key"):
            await tf.malwareinfo("win.pure_rat")
    assert server.requests == []


async def test_connection_refused_is_retried_then_reported():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ThreatFoxSettings(f"http://127.0.0.1:{port}/api/v1/", KEY, 2.0)
    async with ThreatFoxClient(settings, backoff=BACKOFF, environ={}) as tf:
        with pytest.raises(ThreatFoxNetworkError) as caught:
            await tf.malwareinfo("win.pure_rat")
    assert "cannot reach ThreatFox" in str(caught.value) and "3 tries" in str(caught.value)


async def test_redirects_are_not_followed_with_the_key(server):
    server.script = [Reply(301, b"", {"Location": "https://elsewhere.example/api/v1/"})]
    async with client_for(server) as tf:
        with pytest.raises(ThreatFoxNetworkError) as caught:
            await tf.malwareinfo("win.pure_rat")
    assert "redirect (HTTP 301) to https://elsewhere.example/api/v1/" in str(caught.value)
    assert len(server.requests) == 1


async def test_exports_stream_with_progress_and_send_the_key_in_a_header(server):
    seen: list[tuple[int, int | None]] = []
    async with client_for(server) as tf:
        recent = await tf.export_csv("recent", progress=lambda d, t: seen.append((d, t)))
        full = await tf.export_csv("full")
    assert len(recent.iocs) == 15 and len(full.iocs) == 15
    assert seen[0] == (0, len(server.recent_csv)) and seen[-1][0] == len(server.recent_csv)
    assert [r.path for r in server.requests] == ["/export/csv/recent/", "/export/csv/full/"]
    for request in server.requests:
        assert request.method == "GET" and request.headers["Auth-Key"] == KEY
        assert KEY not in request.path


async def test_export_that_is_not_csv_is_refused(server):
    server.script = [Reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html"})]
    async with client_for(server) as tf:
        with pytest.raises(ThreatFoxResponseError, match="not a ThreatFox CSV export"):
            await tf.export_csv("recent")


def test_settings_precedence():
    config = ThreatFoxSettings("https://config.example/api/", "config-key", 12.0)
    env = {"THREATFOX_API_URL": "https://env.example/api/", "THREATFOX_AUTH_KEY": "env-key"}
    assert resolve_settings(config, environ=env) == ThreatFoxSettings(
        "https://env.example/api/", "env-key", 12.0)
    assert resolve_settings(config, api_url="http://127.0.0.1:1/api/v1/", timeout=2.0,
                            environ=env).api_url == "http://127.0.0.1:1/api/v1/"
    assert resolve_settings(config, environ={}) == config
    assert resolve_settings(ThreatFoxSettings(), environ={}).api_url == DEFAULT_API_URL


def test_export_url_is_derived_from_the_api_url():
    assert export_base_for(DEFAULT_API_URL) == "https://threatfox.abuse.ch/"
    assert export_base_for("http://127.0.0.1:8080/api/v1/") == "http://127.0.0.1:8080/"
    tf = ThreatFoxClient(ThreatFoxSettings(DEFAULT_API_URL, KEY),
                         environ={"THREATFOX_EXPORT_URL": "https://mirror.example/tf/"})
    assert tf.export_url == "https://mirror.example/tf/"


def test_a_bad_api_url_is_a_clear_error():
    with pytest.raises(ThreatFoxError, match="not an http"):
        ThreatFoxClient(ThreatFoxSettings("threatfox-api.abuse.ch/api/v1/", KEY), environ={})


def test_progress_printer_draws_and_clears():
    out = io.StringIO()
    bar = ProgressPrinter(out, "fetching")
    bar(0, 200)
    bar(200, 200)
    bar.finish()
    text = out.getvalue()
    assert "[" + "#" * 30 + "] 100%" in text and text.endswith("\r\x1b[K")


# -- fetch into the store: failures leave it exactly as it was --------------------------------

FAULTS = {
    "401 unknown_auth_key": ([], WRONG_KEY),
    "500 until exhausted": ([Reply(500, b"oops")] * 3, KEY),
    "read timeout": ([Reply(200, b"{}", delay=5)], KEY),
    "truncated JSON": ([Reply(200, b'{"query_status": "ok", "data": [{"id": "1", "io')], KEY),
    "cut-off body": ([Reply(200, b'{"query_status": "ok", "data": []}' + b" " * 500,
                            cut_at=40)], KEY),
    "200 illegal_malware": ([Reply(200, {"query_status": "illegal_malware", "data": None})],
                            KEY),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_failed_fetch_leaves_the_store_unchanged(server, tmp_path, data_dir, fault,
                                                      monkeypatch):
    monkeypatch.setenv("FOXHUNT_RETRY_BACKOFF", str(BACKOFF))
    script, key = FAULTS[fault]
    store = tmp_path / "store.sqlite3"
    filled_store(store, data_dir)
    before = snapshot(store)
    server.script = list(script)
    settings = ThreatFoxSettings(server.api_url, key, 0.5)
    with pytest.raises(ThreatFoxError) as caught:
        await fetch_to_store(store, settings, family="win.pure_rat")
    assert snapshot(store) == before
    assert key not in str(caught.value)


async def test_successful_fetch_upserts_in_one_go(server, tmp_path, data_dir):
    store = tmp_path / "store.sqlite3"
    filled_store(store, data_dir)
    settings = ThreatFoxSettings(server.api_url, KEY, 5.0)
    first = await fetch_to_store(store, settings, family="PureHVNC")  # alias, known to store
    again = await fetch_to_store(store, settings, family="win.pure_rat")
    assert (first.summary.new, first.summary.rejected) == (5, 0)
    assert first.summary.new + first.summary.updated + first.summary.unchanged == 13
    assert (again.summary.new, again.summary.updated, again.summary.unchanged) == (0, 0, 13)
    assert [r.body["malware"] for r in server.requests] == ["win.pure_rat", "win.pure_rat"]
    with Store(store) as s:
        assert [f.source for f in s.fetch_log()][:2] == ["ThreatFox malwareinfo win.pure_rat"] * 2


# -- the real CLI, as a subprocess ------------------------------------------------------------


def cli(home: Path, *args: str, key: str | None = KEY, timeout: float = 60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREATFOX_")}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               HOME=str(home), FOXHUNT_RETRY_BACKOFF=str(BACKOFF))
    if key is not None:
        env["THREATFOX_AUTH_KEY"] = key
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def store_of(home: Path) -> Path:
    return home / "data" / "foxhunt" / "foxhunt.sqlite3"


def test_cli_fetch_fills_the_store_and_query_then_works_offline(server, tmp_path):
    home = tmp_path / "home"
    out = cli(home, "fetch", "--family", "PureRAT", "--api-url", server.api_url)
    assert out.returncode == 0, out.stderr
    assert "13 IOCs, 13 new, 0 updated, 0 unchanged, 0 rejected" in out.stdout
    assert out.stderr == ""  # no progress bar when stderr is not a terminal
    # PureRAT is a printable name: it is resolved to its id through malware_list first
    assert [r.body for r in server.requests] == [
        {"query": "malware_list"},
        {"query": "malwareinfo", "malware": "win.pure_rat", "limit": 1000}]
    assert all(r.headers["Auth-Key"] == KEY for r in server.requests)
    server.close()  # offline from here on
    query = cli(home, "query", "--family", "PureRAT", "--type", "domain", key=None)
    assert query.returncode == 0, query.stderr
    assert "dev-tokyotechie.com" in query.stdout and "ThreatFox malwareinfo" in query.stdout
    assert "demo data" not in query.stderr
    families = cli(home, "families", "--format", "json", key=None)
    doc = json.loads(families.stdout)
    assert doc["origin"] == "store" and [f["id"] for f in doc["families"]] == ["win.pure_rat"]


@pytest.mark.parametrize(("script", "kind"), [
    ([Reply(429, b"", {"Retry-After": "0"})], "429"),
    ([Reply(503, b"busy"), Reply(503, b"busy")], "503 twice"),
])
def test_cli_fetch_recovers_after_retries(server, tmp_path, script, kind):
    home = tmp_path / "home"
    server.script = list(script)
    out = cli(home, "fetch", "--family", "win.pure_rat", "--api-url", server.api_url)
    assert out.returncode == 0, out.stderr
    assert len(server.requests) == len(script) + 1 and "13 new" in out.stdout


def test_cli_fetch_exports(server, tmp_path):
    home = tmp_path / "home"
    recent = cli(home, "fetch", "--export", "recent", "--api-url", server.api_url)
    full = cli(home, "fetch", "--export", "full", "--api-url", server.api_url)
    assert recent.returncode == 0 and full.returncode == 0, recent.stderr + full.stderr
    assert "15 new" in recent.stdout and "15 unchanged" in full.stdout
    assert [r.path for r in server.requests] == ["/export/csv/recent/", "/export/csv/full/"]


CLI_FAULTS = {
    "401 unknown_auth_key": ([], WRONG_KEY, "https://auth.abuse.ch/"),
    "no key at all": ([], None, "no ThreatFox Auth-Key is set"),
    "500 until exhausted": ([Reply(500, b"oops")] * 3, KEY, "HTTP 500"),
    "read timeout": ([Reply(200, b"{}", delay=5)], KEY, "timed out"),
    "truncated JSON": ([Reply(200, b'{"query_status": "ok", "data": [')], KEY, "truncated"),
    "cut-off body": ([Reply(200, b"{" + b" " * 500 + b"}", cut_at=100)], KEY, "cut off"),
    "200 illegal_malware": ([Reply(200, {"query_status": "illegal_malware"})], KEY,
                            "does not know the malware family"),
    "export is HTML": ([Reply(200, b"<html></html>")], KEY, "not a ThreatFox CSV export"),
}


@pytest.mark.parametrize("fault", sorted(CLI_FAULTS))
def test_cli_fetch_fault_exit_1_one_line_store_unchanged(server, tmp_path, data_dir, fault):
    script, key, words = CLI_FAULTS[fault]
    home = tmp_path / "home"
    filled_store(store_of(home), data_dir)
    before = snapshot(store_of(home))
    server.script = list(script)
    what = ["--export", "recent"] if "export" in fault else ["--family", "win.pure_rat"]
    out = cli(home, "fetch", *what, "--api-url", server.api_url, "--timeout", "0.5", key=key)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("foxhunt: error: ") and words in lines[0]
    assert "Traceback" not in out.stderr and out.stdout == ""
    for secret in (KEY, WRONG_KEY):
        assert secret not in out.stderr
    assert snapshot(store_of(home)) == before


def test_cli_fetch_failure_on_a_fresh_home_creates_no_store(server, tmp_path):
    home = tmp_path / "home"
    server.script = [Reply(500, b"oops")] * 3
    out = cli(home, "fetch", "--family", "win.pure_rat", "--api-url", server.api_url)
    assert out.returncode == 1 and not store_of(home).exists()


def test_cli_connection_refused(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = cli(tmp_path / "home", "fetch", "--recent", "1", "--api-url",
              f"http://127.0.0.1:{port}/api/v1/")
    assert out.returncode == 1 and "cannot reach ThreatFox" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [
    ["fetch"],
    ["fetch", "--family", "x", "--recent", "1"],
    ["fetch", "--recent", "8"],
    ["fetch", "--family", "x", "--timeout", "soon"],
    ["fetch", "--family", "x", "--api-url", "file:///etc/passwd"],
    ["fetch", "--export", "weekly"],
    ["import"],
])
def test_cli_fetch_usage_errors_exit_2(tmp_path, args):
    out = cli(tmp_path / "home", *args)
    assert out.returncode == 2 and "usage:" in out.stderr
