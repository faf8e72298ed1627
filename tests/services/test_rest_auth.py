"""REST catalog auth (issue 13) against a server that checks it.

Apache Iceberg's REST server (our `--catalog rest`) checks no credentials, so these tests run
Nessie 0.99 (`--catalog nessie`'s server) with authentication on: Quarkus OIDC verifies every
request's RS256 bearer token against a public key given in its configuration (local
verification; no identity provider runs). pyiceberg's own conventions are used, unchanged:

- `token`: a bearer token sent as is;
- `credential` (client_id:client_secret) with `oauth2-server-uri`: pyiceberg asks that OAuth2
  endpoint for a token (client-credentials grant). No OAuth2 server is in our registries, so
  the endpoint is written here (`TokenEndpoint`): it checks the client's id and secret and
  signs a token with the key Nessie trusts. Nessie's check of the token is the real one.

Refused credentials give one clear error naming the settings, never their values (the
suite's secret scan has every token and secret: `Config` registers catalog credentials).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import lakelab
from lakelab.config import load_config
from lakelab.errors import Unavailable
from lakelab.services import objectstore, rest_catalog
from lakelab.services.process import free_port, stop_group
from secret_scan import register

pytestmark = pytest.mark.slow


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt(key: rsa.RSAPrivateKey, subject: str, seconds: int) -> str:
    now = int(time.time())
    head = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"sub": subject, "iss": "lakelab-tests", "iat": now, "exp": now + seconds}).encode())
    sig = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    token = f"{head}.{body}.{_b64(sig)}"
    register(token, "bearer token")
    return token


class TokenEndpoint:
    """An OAuth2 token endpoint (client-credentials grant) for one client, on loopback."""

    def __init__(self, key: rsa.RSAPrivateKey, client_id: str, client_secret: str):
        self.asked = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                endpoint.asked += 1
                ok = form.get("grant_type") == ["client_credentials"] and (
                    form.get("client_id"),
                    form.get("client_secret"),
                ) == ([client_id], [client_secret])
                body = (
                    {"access_token": _jwt(key, client_id, 600), "token_type": "bearer", "expires_in": 600}
                    if ok
                    else {"error": "invalid_client", "error_description": "unknown client or wrong secret"}
                )
                raw = json.dumps(body).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def nessie_with_auth(tmp_path_factory):
    """versitygw + Nessie checking bearer tokens; yields (signing key, base catalog properties)."""
    sdir = tmp_path_factory.mktemp("rest-auth")
    keys = {"s3_access_key": secrets.token_hex(10), "s3_secret_key": secrets.token_hex(20)}
    for v in keys.values():
        register(v, "s3 key")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    started: list[dict] = []
    try:
        store = objectstore.start_s3("versitygw", sdir, free_port(), keys["s3_access_key"], keys["s3_secret_key"])
        started.append(store)
        rest = rest_catalog.start(
            "nessie",
            sdir,
            free_port(),
            storage="s3",
            warehouse="s3://lakelab/warehouse",
            store=store,
            secrets=keys,
            timeout=300,
            nessie_properties=[
                "nessie.server.authentication.enabled=true",
                f"quarkus.oidc.public-key={base64.b64encode(public).decode()}",
            ],
        )
        started.append(rest)
        props = {
            **rest_catalog.pyiceberg_properties(rest),
            **objectstore.pyiceberg_properties("s3", store, keys),
        }
        yield key, props, sdir
    finally:
        for rec in reversed(started):
            stop_group(rec["pid"])


def _lakehouse(home, catalog: dict) -> lakelab.Lakehouse:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text(yaml.safe_dump({"catalog": {"name": "authed", **catalog}}))
    return lakelab.Lakehouse(load_config(home / "config.yaml"))


def _assert_refused(err: Unavailable, *values: str) -> None:
    text = f"{err} {err.hint}"
    assert "refused the credentials" in text and "`token`" in text and "`credential`" in text, text
    assert not any(v in text for v in values)


def test_a_bearer_token_is_sent_and_a_refused_one_is_a_clear_error(nessie_with_auth, tmp_path):
    key, props, _ = nessie_with_auth
    lh = _lakehouse(tmp_path / "ok", {**props, "token": _jwt(key, "alice", 600)})
    assert lh.ingest(pd.DataFrame({"id": [1, 2, 3]}), "authed.bearer", mode="create").rows == 3
    assert lh.sql("SELECT sum(id) AS s FROM authed.bearer", engine="duckdb").to_pandas()["s"].tolist() == [6]
    lh.close()
    # signed by another key, and expired: both refused by the server, both reported the same way
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for bad in (_jwt(other, "mallory", 600), _jwt(key, "alice", -60)):
        with pytest.raises(Unavailable) as err:
            _lakehouse(tmp_path / "bad", {**props, "token": bad}).sql("SELECT 1 FROM authed.bearer", engine="duckdb")
        _assert_refused(err.value, bad)


def test_oauth2_client_credentials_get_a_token_and_a_wrong_secret_is_a_clear_error(nessie_with_auth, tmp_path):
    key, props, sdir = nessie_with_auth
    client_secret = secrets.token_urlsafe(24)
    register(client_secret, "oauth2 client secret")
    endpoint = TokenEndpoint(key, "notebooks", client_secret)
    try:
        oauth = {**props, "oauth2-server-uri": endpoint.url}
        lh = _lakehouse(tmp_path / "ok", {**oauth, "credential": f"notebooks:{client_secret}"})
        lh.ingest(pd.DataFrame({"id": [10, 20]}), "authed.oauth", mode="create")
        assert lh.sql("SELECT count(*) AS n FROM authed.oauth", engine="duckdb").to_pandas()["n"].tolist() == [2]
        assert endpoint.asked >= 1  # the token came from the endpoint
        lh.close()
        wrong = secrets.token_urlsafe(24)
        register(wrong, "wrong oauth2 client secret")
        with pytest.raises(Unavailable) as err:
            _lakehouse(tmp_path / "bad", {**oauth, "credential": f"notebooks:{wrong}"}).catalog.list_namespaces()
        _assert_refused(err.value, wrong, client_secret)
        assert "invalid_client" in str(err.value)
    finally:
        endpoint.close()
    # the server's log has no token or secret (the suite's secret scan reads it too)
    log = (sdir / "rest.log").read_text()
    assert client_secret not in log and wrong not in log
