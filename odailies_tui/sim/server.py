"""The simulator's HTTP side: the v2 API and a signed-URL upload sink, both on 127.0.0.1.

Two ``ThreadingHTTPServer`` instances run in daemon threads: the API (``/api/v2/...``) and the
sink (``/bucket/...``), on different ports so the sink is "another host" that never needs the
API token. ``Simulator`` ties them to a ``ProjectState`` and a mutable ``Faults``.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import json
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote

from .data import iso
from .faults import Faults
from .state import ApiError, ProjectState, parse_zoned

API_PREFIX = "/api/v2/"
MAX_BODY = 64 * 1024 * 1024
KEEP_BODY = 64 * 1024
SINK_CHUNK = 1024 * 1024


@dataclass
class RequestRecord:
    """One request as the simulator saw it (path and query raw, as sent on the wire)."""

    method: str
    path: str
    query: str
    status: int  # 0 when the connection was dropped without an answer
    headers: dict
    body: bytes
    nbytes_out: int


@dataclass
class UploadRecord:
    """One object stored by the sink (the bytes themselves are not kept)."""

    path: str
    size: int
    sha256: str
    content_type: str | None
    headers: dict = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    """A threading server that can close its live keep-alive connections and join threads."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], handler: type, sim: Simulator) -> None:
        self.sim = sim
        self._conns: dict[threading.Thread, socket.socket] = {}
        self._conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):  # noqa: ANN001
        thread = threading.Thread(target=self._serve_one, args=(request, client_address),
                                  daemon=True, name="odailies-sim-conn")
        with self._conns_lock:
            self._conns[thread] = request
        thread.start()

    def _serve_one(self, request, client_address) -> None:  # noqa: ANN001
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._conns_lock:
                self._conns.pop(threading.current_thread(), None)

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        pass  # a client that went away is not news

    def close_all(self, timeout: float = 2.0) -> None:
        """Shut every open connection down and wait for the handler threads."""
        with self._conns_lock:
            conns = list(self._conns.items())
        for _, sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread, _ in conns:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    """Shared plumbing: Date from the sim clock, keep-alive, one write per answer."""

    protocol_version = "HTTP/1.1"
    server_version = "odailies-sim/2"
    disable_nagle_algorithm = True
    timeout = 120
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.server.sim._state.stamp(), usegmt=True)

    def _split(self) -> tuple[str, str]:
        raw_path, _, query = self.path.partition("?")
        return raw_path, query

    def _headers_dict(self) -> dict:
        return {k: v for k, v in self.headers.items()}

    def _record(self, status: int, body: bytes, nbytes_out: int) -> None:
        path, query = self._split()
        self.server.sim.requests.append(RequestRecord(
            self.command, path, query, status, self._headers_dict(),
            body if len(body) <= KEEP_BODY else b"", nbytes_out,
        ))

    def _send(self, status: int, payload: bytes, content_type: str, extra: dict | None = None,
              close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _drop(self, reset: bool = True) -> None:
        """Close the connection with no answer (an RST when ``reset``)."""
        self.close_connection = True
        if reset:
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            except OSError:
                pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _ApiHandler(_Handler):
    """``/api/v2``: clips, jobs, upload URLs."""

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            return None
        if n < 0 or n > MAX_BODY:
            return None
        return self.rfile.read(n)

    def _serve(self) -> None:
        sim = self.server.sim
        body = self._read_body()
        if body is None:
            payload = _error("a body needs a valid Content-Length")
            self._record(400, b"", len(payload))
            self._send(400, payload, "application/json", close=True)
            return
        faults = sim.faults
        if faults.take_drop():
            self._record(0, body, 0)
            self._drop()
            return
        if faults.latency > 0:
            time.sleep(faults.latency)
        if faults.take_error():
            status, payload = 500, _error("simulated server error")
        else:
            try:
                status, data = 200, self._route(body)
                payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
            except ApiError as exc:
                status, payload = exc.status, _error(exc.message)
            except Exception as exc:  # a simulator bug must still answer like a server
                status, payload = 500, _error(f"internal error: {type(exc).__name__}")
        self._record(status, body, len(payload))  # before answering: tests read it at once
        self._send(status, payload, "application/json; charset=utf-8")

    def _route(self, body: bytes) -> object:
        sim = self.server.sim
        state = sim._state
        raw_path, query = self._split()
        if not raw_path.startswith(API_PREFIX):
            raise ApiError(404, "not found")
        try:
            parts = [unquote(p, errors="strict") for p in raw_path[len(API_PREFIX):].split("/")]
        except UnicodeDecodeError:
            raise ApiError(400, "path is not valid percent-encoded UTF-8") from None
        kind = parts[0] if parts else ""
        if kind not in ("clips", "jobs", "upload") or len(parts) < 3 or "" in parts[:3]:
            raise ApiError(404, "not found")
        method = self.command
        if kind == "upload":
            if len(parts) < 4 or not all(parts[3:]):
                raise ApiError(400, "upload needs a destination path")
            project, token, item = parts[1], parts[2], "/".join(parts[3:])
            allowed, perm = ("GET",), "upload"
        else:
            if len(parts) > 4:
                raise ApiError(400, "too many path segments (percent-encode '/' inside a "
                                    "name as %2F)")
            project = parts[1]
            token = parts[-1]
            item = parts[2] if len(parts) == 4 else None
            allowed = ("GET", "PATCH")
            perm = "read" if method == "GET" else "write"
        if method not in allowed:
            raise ApiError(405, f"method {method} not allowed here")
        perms = sim._tokens.get(token)
        if perms is None:
            raise ApiError(401, "invalid token")
        if perm not in perms:
            raise ApiError(403, f"this token lacks the {perm} permission")
        if project != state.project_id:
            # Interpretation: the contract has no 404; an unknown project is a bad parameter.
            raise ApiError(400, f"unknown project: {project!r}")
        state.catch_up()
        if kind == "upload":
            return sim._sign(item)
        params = parse_qs(query, keep_blank_values=True)
        if kind == "clips":
            if params:
                raise ApiError(400, f"unknown query parameter(s): {', '.join(sorted(params))}")
            return self._clips(method, item, body)
        unknown = set(params) - {"since"}
        if unknown or (params and (method != "GET" or item is not None)):
            raise ApiError(400, f"unknown query parameter(s): {', '.join(sorted(params))}")
        return self._jobs(method, item, body, params.get("since"))

    def _clips(self, method: str, name: str | None, body: bytes) -> object:
        state = self.server.sim._state
        if method == "GET":
            return {"data": state.get_clip(name) if name is not None else state.list_clips()}
        items = _data_items(body, name, "name")
        names = state.patch_clips(items)
        return {"data": {"updated": len(names), "projectId": state.project_id, "names": names}}

    def _jobs(self, method: str, job_id: str | None, body: bytes,
              since: list[str] | None) -> object:
        state = self.server.sim._state
        if method == "GET":
            if job_id is not None:
                return {"data": state.get_job(job_id)}
            cut = None
            if since is not None:
                if len(since) != 1 or not since[0]:
                    raise ApiError(400, "give 'since' once, with a value")
                cut = parse_zoned(since[0], "since")
            return {"data": state.list_jobs(cut)}
        items = _data_items(body, job_id, "id")
        ids = state.patch_jobs(items)
        return {"data": {"updated": len(ids), "projectId": state.project_id, "ids": ids}}


def _data_items(body: bytes, single: str | None, key: str) -> list:
    """The list of objects of a PATCH body; for a single-item path also accept one object."""
    try:
        doc = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "body is not valid JSON") from None
    if not isinstance(doc, dict) or "data" not in doc:
        raise ApiError(400, "body must be a JSON object with a 'data' member")
    extra = set(doc) - {"data"}
    if extra:
        raise ApiError(400, f"unknown key(s) in body: {', '.join(sorted(extra))}")
    items = doc["data"]
    if single is None:
        if not isinstance(items, list):
            raise ApiError(400, "'data' must be an array")
        return items
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise ApiError(400, "'data' must be one object (or an array of one)")
    item = dict(items[0])
    if item.setdefault(key, single) != single:
        raise ApiError(400, f"{key!r} in the body differs from the path")
    return [item]


def _error(message: str) -> bytes:
    return json.dumps({"error": {"message": message}}, ensure_ascii=False).encode()


def _xml_error(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>\n").encode()


class _SinkHandler(_Handler):
    """The object store behind signed URLs: PUT with Content-Length only."""

    server_version = "odailies-sim-storage/1"

    def do_PUT(self) -> None:  # noqa: N802
        sim = self.server.sim
        raw_path, query = self._split()
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower() or \
                self.headers.get("Content-Length") is None:
            return self._refuse(411, "MissingContentLength",
                                "You must provide the Content-Length HTTP header.")
        try:
            length = int(self.headers["Content-Length"])
            if length < 0:
                raise ValueError
        except ValueError:
            return self._refuse(400, "InvalidArgument", "Bad Content-Length.")
        verdict = sim._verify(raw_path, query)
        if isinstance(verdict, tuple):
            return self._refuse(*verdict)
        object_path = verdict
        fail = sim.faults.take_fail_put()
        limit = length // 2 if fail else length
        digest = hashlib.sha256()
        buf = bytearray(SINK_CHUNK)
        view = memoryview(buf)
        got = 0
        speed = sim.sink_bytes_per_second
        started = time.monotonic()
        while got < limit:
            n = self.rfile.readinto(view[: min(SINK_CHUNK, limit - got)])
            if not n:
                break
            digest.update(view[:n])
            got += n
            if speed:
                ahead = got / speed - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        if fail or got < length:
            self._record(0, b"", 0)
            self._drop()
            return
        with sim.lock:
            sim.uploads[object_path] = UploadRecord(
                object_path, got, digest.hexdigest(), self.headers.get("Content-Type"),
                self._headers_dict(),
            )
        etag = '"' + digest.hexdigest()[:32] + '"'
        self._record(200, b"", 0)
        self._send(200, b"", "application/xml", {"ETag": etag})

    def _refuse(self, status: int, code: str, message: str) -> None:
        payload = _xml_error(code, message)
        # The body may be large and unread: close instead of draining it.
        self._record(status, b"", len(payload))
        self._send(status, payload, "application/xml", close=True)

    def _other(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= KEEP_BODY:
            self.rfile.read(length)
        payload = _xml_error("MethodNotAllowed", "The specified method is not allowed.")
        self._record(405, b"", len(payload))
        self._send(405, payload, "application/xml", {"Allow": "PUT"}, close=length > KEEP_BODY)

    do_GET = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _other


class Simulator:
    """A strict o/DAILIES v2 service on loopback (see ``odailies_tui.sim`` for the API)."""

    def __init__(
        self,
        project_id: str = "demo",
        clips: int = 48,
        jobs: int = 12,
        seed: int = 1,
        tokens: dict[str, set[str]] | None = None,
        url_lifetime: float = 900.0,
        sink_bytes_per_second: float | None = None,
        realtime: bool = True,
        *,
        faults: Faults | None = None,
        start: datetime | None = None,
        running: int | None = None,
        autospawn: bool | None = None,
        request_log: int = 20000,
    ) -> None:
        self.project_id = project_id
        self.faults = faults if faults is not None else Faults(seed=seed)
        self.url_lifetime = url_lifetime
        self.sink_bytes_per_second = sink_bytes_per_second
        self.realtime = realtime
        self._state = ProjectState(
            project_id, clips, jobs, seed, realtime, lambda: self.faults.clock_skew,
            start=start, running=running, autospawn=autospawn,
        )
        self.token = f"{project_id}-token-rwu"
        self.readonly_token = f"{project_id}-token-r"
        self._tokens: dict[str, frozenset[str]] = {}
        if tokens is None:
            self.add_token(self.token, {"read", "write", "upload"})
            self.add_token(self.readonly_token, {"read"})
        else:
            for tok, perms in tokens.items():
                self.add_token(tok, perms)
            full = [t for t, p in self._tokens.items() if p == {"read", "write", "upload"}]
            ro = [t for t, p in self._tokens.items() if p == {"read"}]
            self.token = full[0] if full else next(iter(self._tokens), self.token)
            if ro:
                self.readonly_token = ro[0]
            else:
                self.add_token(self.readonly_token, {"read"})
        # About 1 KB per record: a day-long --demo may want a shorter log (request_log=500).
        self.requests: collections.deque[RequestRecord] = collections.deque(maxlen=request_log)
        self.uploads: dict[str, UploadRecord] = {}
        self._secret = secrets.token_bytes(32)
        self._api: _Server | None = None
        self._sink: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    # -- state views -------------------------------------------------------------------------

    @property
    def clips(self) -> dict[str, dict]:
        return self._state.clips

    @property
    def jobs(self) -> dict[str, dict]:
        return self._state.jobs

    @property
    def lock(self) -> threading.RLock:
        return self._state.lock

    def now(self) -> datetime:
        """The server clock: wall clock (if realtime) + advanced offset + ``faults.clock_skew``."""
        return self._state.now()

    def advance(self, seconds: float) -> None:
        """Move simulated time forward; jobs progress, finish, fail, new ones appear."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self.lock:
            self._state.offset += seconds
            self._state.catch_up()

    def set_job(self, job_id: str, **fields: object) -> None:
        """Test helper: change a job's API fields (unvalidated) and mark it active now."""
        self._state.set_job(job_id, **fields)

    def add_job(self, **fields: object) -> str:
        """Test helper: insert a job (the newest); returns its id."""
        return self._state.add_job(**fields)

    def add_token(self, token: str, perms: set[str]) -> None:
        """Accept ``token`` with ``perms`` (a subset of read, write, upload)."""
        bad = set(perms) - {"read", "write", "upload"}
        if bad:
            raise ValueError(f"unknown permission(s): {sorted(bad)}")
        self._tokens[token] = frozenset(perms)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._api is None:
            raise RuntimeError("simulator not started")
        return self._api.server_address[1]

    @property
    def sink_port(self) -> int:
        if self._sink is None:
            raise RuntimeError("simulator not started")
        return self._sink.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    def start(self, port: int = 0) -> Simulator:
        """Serve the API on ``127.0.0.1:port`` (0: a free port) and the sink on another."""
        if self._api is not None:
            return self
        self._stop.clear()
        self._api = _Server(("127.0.0.1", port), _ApiHandler, self)
        self._sink = _Server(("127.0.0.1", 0), _SinkHandler, self)
        for name, srv in (("api", self._api), ("sink", self._sink)):
            thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                      daemon=True, name=f"odailies-sim-{name}")
            thread.start()
            self._threads.append(thread)
        if self.realtime:
            ticker = threading.Thread(target=self._tick, daemon=True, name="odailies-sim-tick")
            ticker.start()
            self._threads.append(ticker)
        return self

    def stop(self) -> None:
        """Stop both servers, close live connections, join every thread, free the ports."""
        self._stop.set()
        servers = [srv for srv in (self._api, self._sink) if srv is not None]
        stoppers = [threading.Thread(target=srv.shutdown) for srv in servers]
        for stopper in stoppers:  # both at once: each waits up to one poll interval
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for srv in (self._api, self._sink):
            if srv is not None:
                srv.close_all()
                srv.server_close()
        for thread in self._threads:
            thread.join(2.0)
        self._threads.clear()
        self._api = self._sink = None

    close = stop

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._state.catch_up()

    # -- signed URLs -------------------------------------------------------------------------

    def _signature(self, object_path: str, expires: int) -> str:
        msg = f"{object_path}\n{expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def _sign(self, item: str) -> dict:
        now = self._state.stamp()
        expires = int(now - 60) if self.faults.expire_urls else int(now + self.url_lifetime)
        object_path = f"u-{self.project_id}/{item}"
        url = (f"http://127.0.0.1:{self.sink_port}/bucket/{quote(object_path, safe='/')}"
               f"?X-Expires={expires}&X-Signature={self._signature(object_path, expires)}")
        return {"url": url, "expiresAt": iso(expires)}

    def _verify(self, raw_path: str, query: str) -> str | tuple[int, str, str]:
        """The object path of a valid signed URL, or (status, code, message)."""
        if not raw_path.startswith("/bucket/"):
            return 404, "NoSuchBucket", "The specified bucket does not exist."
        object_path = unquote(raw_path[len("/bucket/"):])
        params = parse_qs(query)
        try:
            expires = int(params["X-Expires"][0])
            signature = params["X-Signature"][0]
        except (KeyError, IndexError, ValueError):
            return 403, "AccessDenied", "Missing or malformed signature."
        if not hmac.compare_digest(signature, self._signature(object_path, expires)):
            return 403, "SignatureDoesNotMatch", "The request signature does not match."
        if self._state.stamp() > expires:
            return 403, "AccessDenied", "Request has expired."
        return object_path.removeprefix(f"u-{self.project_id}/")
