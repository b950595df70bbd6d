"""The live Playground: its session logic, and its HTTP API on loopback."""

import http.client
import json
import threading

import numpy as np
import pytest

from fastmlp.playground._live import DEFAULT_STATE, Session, StateError, parse_state
from fastmlp.playground._server import ASSETS, MAX_BODY, PlaygroundServer

PLAYGROUND_URL_HASH = (
    "activation=relu&batchSize=20&dataset=xor&regDataset=reg-plane&"
    "learningRate=0.1&regularizationRate=0.001&noise=15&networkShape=5,3&"
    "seed=0.70165&showTestData=true&discretize=false&percTrainData=60&x=true&"
    "y=true&xTimesY=true&xSquared=false&ySquared=false&cosX=false&sinX=false&"
    "cosY=false&sinY=true&collectStats=false&problem=classification&"
    "initZero=false&hideText=false&regularization=L1"
)


def _hash_items(text):
    return dict(pair.split("=", 1) for pair in text.split("&"))


def test_a_playground_url_sets_the_same_configuration():
    state = parse_state(_hash_items(PLAYGROUND_URL_HASH))
    assert state["activation"] == "relu" and state["dataset"] == "xor"
    assert state["networkShape"] == [5, 3] and state["batchSize"] == 20
    assert state["noise"] == 15 and state["percTrainData"] == 60
    assert state["regularization"] == "L1" and state["regularizationRate"] == 0.001
    assert state["xTimesY"] and state["sinY"] and not state["xSquared"]
    session = Session(_hash_items(PLAYGROUND_URL_HASH))
    assert [w.shape for w in session.model.coefs_] == [(4, 5), (5, 3), (3, 1)]
    assert session.model.activation == "relu"
    assert session.model.l1 == pytest.approx(0.001 * 20)
    assert len(session.X_train) == 300  # 60 % of the Playground's 500


@pytest.mark.parametrize(
    "updates,match",
    [
        ({"activation": "softsign"}, "activation"),
        ({"batchSize": 31}, "batchSize"),
        ({"networkShape": [9]}, "size"),
        ({"networkShape": [1] * 7}, "networkShape"),
        ({"learningRate": "fast"}, "learningRate"),
        ({"noise": float("nan")}, "noise"),
        ({"x": False, "y": False}, "input"),
    ],
)
def test_bad_values_are_refused_with_a_message(updates, match):
    with pytest.raises(StateError, match=match):
        parse_state(updates)


def test_training_steps_lower_the_loss_and_count_epochs():
    session = Session()
    first = session.snapshot()
    assert first["epoch"] == 0 and len(first["train"]) == 250
    assert len(first["output"]) == 100 and len(first["nodes"][0]) == 4
    assert len(first["nodes"][0][0]) == 10  # 10 x 10 node maps
    assert np.shape(first["weights"][0]) == (2, 4) and len(first["biases"][1]) == 2
    after = session.step(100)
    assert after["epoch"] == 100 and "train" not in after  # points sent once
    assert after["loss_train"] < first["loss_train"] / 2
    assert max(max(abs(v) for v in row) for row in after["output"]) <= 1


def test_learning_rate_applies_at_once_other_controls_reset():
    session = Session()
    session.step(3)
    weights = [w.copy() for w in session.model.coefs_]
    snap = session.configure({"learningRate": 0.3, "showTestData": True})
    assert snap["epoch"] == 3 and session.model._optimizer.learning_rate == 0.3
    np.testing.assert_array_equal(session.model.coefs_[0], weights[0])
    assert session.configure({"activation": "relu"})["epoch"] == 0
    data = session.X_train.copy()
    session.configure({"networkShape": [3]})
    np.testing.assert_array_equal(session.X_train, data)  # same data, new net
    session.regenerate()
    assert not np.array_equal(session.X_train, data)


def test_epoch_zero_shows_the_initial_weights_and_reset_repeats_them():
    session = Session()
    before = [w.copy() for w in session.model.coefs_]
    session.step(2)
    session.reset()
    for a, b in zip(before, session.model.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_regression_and_every_activation_train():
    for activation in ("tanh", "relu", "sigmoid", "linear"):
        session = Session({"problem": "regression", "activation": activation})
        assert np.isfinite(session.step(2)["loss_train"])
    assert DEFAULT_STATE["problem"] == "classification"


# --------------------------------------------------------------------------
# the HTTP API on loopback
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    srv = PlaygroundServer(warm=False)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _request(server, method, path, body=None, host=None, raw=None):
    port = server.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host or f"127.0.0.1:{port}"}
    data = raw if raw is not None else (None if body is None else json.dumps(body))
    if data is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type"), payload


def test_server_binds_loopback_and_serves_the_page(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")
    status, kind, page = _request(server, "GET", "/")
    assert status == 200 and kind.startswith("text/html")
    assert b"playground.js" in page and b"http" not in page.replace(b"http-", b"")
    for name in ASSETS:
        assert _request(server, "GET", f"/static/{name}")[0] == 200
    for path in ("/static/../_live.py", "/static/_server.py", "/etc/passwd", "/x"):
        assert _request(server, "GET", path)[0] == 404
    assert json.loads(_request(server, "GET", "/api/status")[2])["ready"]


def test_server_refuses_other_hosts_and_large_bodies(server):
    assert _request(server, "GET", "/", host="evil.example:80")[0] == 403
    assert _request(server, "POST", "/api/step", {}, host="evil.example")[0] == 403
    big = b"{" + b" " * (MAX_BODY + 1) + b"}"
    assert _request(server, "POST", "/api/state", raw=big)[0] == 413


def test_server_api_trains_and_reports_errors(server):
    status, _, body = _request(server, "POST", "/api/state", {"networkShape": [3]})
    assert status == 200 and json.loads(body)["epoch"] == 0
    status, _, body = _request(server, "POST", "/api/step", {"epochs": 5})
    snap = json.loads(body)
    assert status == 200 and snap["epoch"] == 5 and len(snap["weights"]) == 2
    status, _, body = _request(server, "POST", "/api/state", {"batchSize": 99})
    assert status == 400 and "batchSize" in json.loads(body)["error"]
    status, _, body = _request(server, "POST", "/api/state", raw=b"not json")
    assert status == 400 and json.loads(body)["error"]
    assert _request(server, "POST", "/api/reset", {})[0] == 200
    assert json.loads(_request(server, "POST", "/api/regenerate", {})[2])["epoch"] == 0
