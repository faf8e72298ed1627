"""`python -m lakelab.services.token_server PORT`: an OAuth token endpoint on 127.0.0.1 that
hands out a placeholder bearer token. Trino's GCS file system insists on credentials; the
local fake-gcs-server checks none, so the token only has to exist."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = json.dumps({"access_token": "lakelab-local", "expires_in": 3600, "token_type": "Bearer"}).encode()


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args) -> None:
        pass  # request bodies carry placeholder credentials; log nothing


def main(argv: list[str]) -> int:
    server = ThreadingHTTPServer(("127.0.0.1", int(argv[0])), _Handler)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
