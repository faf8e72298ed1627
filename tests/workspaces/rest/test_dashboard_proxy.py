"""The dashboard proxy (jupyter-server-proxy underneath) against a small local stand-in for a
Ray dashboard, started by the test in a thread of its own: a real HTTP + websocket server
that reports what reached it. The workspace is an attached cluster whose dashboard is that
server, mounted under /ray to show the proxy keeps a dashboard's own path; its Ray token is
the one the store keeps. The same proxy against a real Ray dashboard (HTTP GET, a job POST,
the job's log-tail websocket) is in test_workspaces_api.py."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from tornado import web, websocket
from tornado.httpclient import HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from lakelab.config import save_config
from lakelab.workspaces.state import Store

API = ("lakelab", "api", "v1", "workspaces")


def _seen(handler: web.RequestHandler) -> dict:
    return {
        "method": handler.request.method,
        "uri": handler.request.uri,
        "body": handler.request.body.decode(),
        "headers": {k.lower(): v for k, v in handler.request.headers.get_all()},
    }


class Echo(web.RequestHandler):
    def get(self, _path: str) -> None:
        self.set_cookie("ray-authentication-token", "from-ray")
        self.write(_seen(self))

    def post(self, _path: str) -> None:
        self.write(_seen(self))

    def check_xsrf_cookie(self) -> None:
        pass


class Moved(web.RequestHandler):
    def get(self) -> None:
        self.redirect("/ray/echo/moved")


class EchoSocket(websocket.WebSocketHandler):
    def open(self) -> None:
        self.write_message(json.dumps(_seen(self)))

    def on_message(self, message) -> None:
        self.write_message(f"echo: {message}")


class StandIn:
    """The stand-in dashboard on 127.0.0.1, serving under /ray/, in its own thread and loop."""

    def __init__(self) -> None:
        sock, self.port = bind_unused_port()
        ready = threading.Event()

        def serve() -> None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            app = web.Application([(r"/ray/echo/(.*)", Echo), (r"/ray/moved", Moved), (r"/ray/ws", EchoSocket)])
            server = HTTPServer(app)
            server.add_sockets([sock])
            ready.set()
            self.loop.run_forever()
            server.stop()
            self.loop.run_until_complete(server.close_all_connections())
            self.loop.close()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(30)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)


@pytest.fixture
def dashboard():
    stand_in = StandIn()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def jp_server_config(lakelab_home, dashboard, jp_http_port):
    save_config(
        {
            "workspaces": {
                "backend": "attach",
                # "alive" means this address accepts connections: the Jupyter server's own port does
                "address": f"127.0.0.1:{jp_http_port}",
                "dashboard_url": f"http://127.0.0.1:{dashboard.port}/ray",
            }
        }
    )
    return {"ServerApp": {"jpserver_extensions": {"lakelab_server": True}}}


async def attach(jp_fetch, home) -> str:
    """Workspace `edge`, attached to the stand-in, created through REST; returns its Ray token."""
    r = await jp_fetch(*API, method="POST", body=json.dumps({"name": "edge"}))
    assert json.loads(r.body)["state"] == "running"
    store = Store(home / "workspaces")
    store.new_token("edge")  # an attached cluster's token, kept server-side like a local one's
    return store.token("edge")


async def test_a_get_reaches_the_dashboard_with_the_ray_token_and_without_jupyters_credentials(jp_fetch, lakelab_home):
    attached = await attach(jp_fetch, lakelab_home)
    r = await jp_fetch(
        *API, "edge", "dashboard", "echo", "a b", params={"x": "1"}, headers={"Cookie": "username-x=secret"}
    )
    seen = json.loads(r.body)
    assert seen["method"] == "GET" and seen["uri"] == "/ray/echo/a%20b?x=1"  # under the dashboard's own path
    assert seen["headers"]["x-ray-authorization"] == f"Bearer {attached}"
    assert "authorization" not in seen["headers"] and "cookie" not in seen["headers"]
    assert not [c for c in r.headers.get_list("Set-Cookie") if "ray-" in c]  # Ray's cookies stay out
    assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
    assert attached not in r.body.decode().replace(seen["headers"]["x-ray-authorization"], "")


async def test_a_post_reaches_the_dashboard_with_its_body(jp_fetch, lakelab_home):
    attached = await attach(jp_fetch, lakelab_home)
    r = await jp_fetch(*API, "edge", "dashboard", "echo", "api/jobs/", method="POST", body='{"entrypoint": "x"}')
    seen = json.loads(r.body)
    assert seen["method"] == "POST" and seen["body"] == '{"entrypoint": "x"}'
    assert seen["headers"]["x-ray-authorization"] == f"Bearer {attached}"


async def test_a_websocket_is_proxied_both_ways_with_the_token_added(jp_fetch, jp_ws_fetch, lakelab_home):
    attached = await attach(jp_fetch, lakelab_home)
    ws = await jp_ws_fetch(*API, "edge", "dashboard", "ws")
    try:
        seen = json.loads(await ws.read_message())
        assert seen["headers"]["x-ray-authorization"] == f"Bearer {attached}"
        assert "authorization" not in seen["headers"]
        ws.write_message("hello")
        assert await ws.read_message() == "echo: hello"
    finally:
        ws.close()


async def test_a_websocket_without_jupyter_credentials_is_refused(jp_fetch, jp_ws_fetch, lakelab_home):
    await attach(jp_fetch, lakelab_home)
    with pytest.raises(HTTPClientError) as e:
        await jp_ws_fetch(*API, "edge", "dashboard", "ws", headers={"Authorization": ""})
    assert e.value.code == 403


async def test_a_dashboard_redirect_stays_inside_the_proxy(jp_fetch, lakelab_home, jp_base_url):
    await attach(jp_fetch, lakelab_home)
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(*API, "edge", "dashboard", "moved", follow_redirects=False)
    assert e.value.code == 302
    assert (
        e.value.response.headers["Location"] == f"{jp_base_url}lakelab/api/v1/workspaces/edge/dashboard/ray/echo/moved"
    )


@pytest.mark.parametrize(
    "name, status, code",
    [("ghost", 404, "not_found"), ("Bad-Name", 400, "invalid_input")],
)
async def test_an_unknown_or_bad_workspace_is_a_json_error(jp_fetch, lakelab_home, name, status, code):
    await attach(jp_fetch, lakelab_home)
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(*API, name, "dashboard", "echo", "x")
    assert e.value.code == status and json.loads(e.value.response.body)["error"]["code"] == code


async def test_a_dashboard_that_does_not_answer_is_a_503(jp_fetch, lakelab_home, dashboard):
    await attach(jp_fetch, lakelab_home)
    dashboard.stop()
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(*API, "edge", "dashboard", "echo", "x")
    err = json.loads(e.value.response.body)["error"]
    assert e.value.code == 503 and err["code"] == "unavailable" and "did not answer" in err["message"]
