"""``python -m fastmlp.playground serve``: the live Playground on loopback.

The standard library's HTTP server, bound to 127.0.0.1 (a free port by
default). It serves the package's own page (``static/``: plain HTML,
JavaScript and CSS, nothing fetched from elsewhere) and a small JSON API
over one :class:`~fastmlp.playground._live.Session`:

=====================  ====================================================
``GET /``              the page
``GET /static/NAME``   one of the page's files (:data:`ASSETS` only)
``GET /api/status``    ``{"ready": bool, "message": str}`` (compiling ahead)
``POST /api/state``    the Playground's state (JSON); returns the snapshot
``POST /api/step``     ``{"epochs": n}``; trains, returns the snapshot
``POST /api/reset``    a new network
``POST /api/regenerate``  new data, a new network
=====================  ====================================================

Safe by default: requests whose ``Host`` header is not this server's
loopback address are refused (403: DNS rebinding), request bodies are
bounded (:data:`MAX_BODY`), bad values are answered with a 400 and a
message the page shows.
"""

import json
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from ._live import Session, StateError

#: The page's files, served from the package (nothing else is).
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}
#: The largest request body read (bytes); a state is ~600.
MAX_BODY = 16 * 1024


def _asset(name):
    return resources.files(__package__).joinpath("static", name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server_version = "fastmlp-playground"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: the console shows the URL
        pass

    def _host_ok(self):
        host = self.headers.get("Host", "")
        return host in self.server.allowed_hosts

    def _send(self, status, body, content_type="application/json"):
        if isinstance(body, dict):
            body = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if not self._host_ok():
            return self._send(403, {"error": "this server answers on loopback only"})
        path = self.path.split("?", 1)[0]
        if path == "/":
            path = "/static/index.html"
        if path == "/api/status":
            return self._send(200, self.server.status())
        if path == "/api/snapshot":
            return self._send(200, self.server.session.snapshot())
        name = path[len("/static/") :] if path.startswith("/static/") else None
        if name in ASSETS:
            return self._send(200, _asset(name), ASSETS[name])
        return self._send(404, {"error": f"no such page: {path}"})

    def do_POST(self):
        if not self._host_ok():
            return self._send(403, {"error": "this server answers on loopback only"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return self._send(413, {"error": f"request body over {MAX_BODY} bytes"})
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise StateError("the request body must be a JSON object")
            session = self.server.session
            path = self.path.split("?", 1)[0]
            if path == "/api/state":
                result = session.configure(body)
            elif path == "/api/step":
                result = session.step(body.get("epochs", 1))
            elif path == "/api/reset":
                result = session.reset()
            elif path == "/api/regenerate":
                result = session.regenerate()
            else:
                return self._send(404, {"error": f"no such call: {path}"})
        except (StateError, json.JSONDecodeError, UnicodeDecodeError) as error:
            return self._send(400, {"error": str(error)})
        except ValueError as error:  # e.g. training diverged
            return self._send(400, {"error": f"training stopped: {error}"})
        return self._send(200, result)


class PlaygroundServer(ThreadingHTTPServer):
    """The HTTP server of one :class:`Session`; ``url`` is its address."""

    daemon_threads = True

    def __init__(self, host="127.0.0.1", port=0, warm=True):
        super().__init__((host, port), _Handler)
        port = self.server_address[1]
        names = {host, "127.0.0.1", "localhost"} if host == "127.0.0.1" else {host}
        self.allowed_hosts = {f"{n}:{port}" for n in names}
        self.url = f"http://{host}:{port}/"
        self._session = None
        self._session_made = threading.Event()
        self._ready = not warm
        self._message = "ready" if not warm else "compiling the kernels ahead..."
        if warm:
            # The first network compiles the kernels (seconds with an empty
            # cache): made in the warm-up thread, so that the URL is printed
            # and the page answers at once, saying that it compiles.
            threading.Thread(target=self._warm, daemon=True).start()
        else:
            self._make_session()

    @property
    def session(self):
        """The page's :class:`Session` (waits while the warm-up makes it)."""
        self._session_made.wait()
        if self._session is None:
            raise StateError(f"no network: {self._message}")
        return self._session

    def _make_session(self):
        try:
            self._session = Session()
        finally:
            self._session_made.set()

    def status(self):
        return {"ready": self._ready, "message": self._message}

    def _warm(self):
        """Make the page's network, then compile (or load) every
        configuration the page can ask for, so that no control change waits
        for a compile: the four activations, the classifier and the
        regressor, L1 on and off. The message gives the time of both."""
        start = time.perf_counter()
        try:
            self._make_session()
            for problem in ("classification", "regression"):
                for activation in ("tanh", "relu", "sigmoid", "linear"):
                    for regularization in ("none", "L1"):
                        rate = 0.001 if regularization == "L1" else 0.0
                        Session(
                            {
                                "problem": problem,
                                "activation": activation,
                                "regularization": regularization,
                                "regularizationRate": rate,
                                "noise": 0,
                            }
                        ).step(1)
            self._message = f"kernels ready ({time.perf_counter() - start:.1f} s)"
        except Exception as error:  # shown on the page, the server goes on
            self._message = f"warm-up failed: {error}"
        self._ready = True


def serve(host="127.0.0.1", port=0, open_browser=False, warm=True):
    """Run the live Playground until interrupted (Ctrl-C)."""
    server = PlaygroundServer(host, port, warm)
    print(f"fastmlp Playground: {server.url}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
