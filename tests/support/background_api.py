"""Run the API under uvicorn on a loopback port in a background thread.

For the integration and browser tests: the real HTTP server, started and stopped from
synchronous code, on a port the OS picks when asked for 0. (The demo runs uvicorn itself.)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI


class BackgroundApi:
    def __init__(
        self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # uvicorn calls sys.exit on a failed start-up; start() reports it instead.
        with contextlib.suppress(SystemExit):
            self._server.run(sockets=[self._sock])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> BackgroundApi:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._sock.close()
                raise RuntimeError("the API did not start (see the log above)")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> BackgroundApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
