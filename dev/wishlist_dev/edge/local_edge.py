"""LocalEdge: Varnish (cache) behind hitch (TLS) in front of the signing origin, on loopback.

    with LocalEdge(origin_endpoint=moto_url, bucket="lego-moc-wishlist-uploads") as edge:
        httpx.get(edge.https_url(path="/uploads/wishlist/u/a.png"), verify=str(edge.ca_cert_path))

`stop()`/`start()` take the CDN down and up again on the same ports (the origin and the
certificate stay); `close()` (or leaving the `with`) removes everything but the delivered
access logs (`access_logs=AccessLogs(folder)`, see log_delivery.py).
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wishlist_dev.edge.access_logger import AccessLogger
from wishlist_dev.edge.log_delivery import AccessLogs
from wishlist_dev.edge.model import EdgeConfig
from wishlist_dev.edge.origin import SigningOrigin
from wishlist_dev.edge.processes import Daemon, EdgeStartError, find_binary, free_port, tcp_open
from wishlist_dev.edge.purge import LocalEdgePurger
from wishlist_dev.edge.template import edge_config_from_template, find_template
from wishlist_dev.edge.tls import make_certificate
from wishlist_dev.edge.vcl import VclParams, render_vcl

if TYPE_CHECKING:
    import httpx

DEFAULT_CDN_HOST = "d111111abcdef8.cloudfront.net"
DEFAULT_POP = "LCL50-P1"
PROBE_HOST = "ready.invalid"  # no distribution's: the VCL answers 403 and logs nothing


class EdgeUnavailable(RuntimeError):
    """varnishd, varnishncsa or hitch is not installed (Debian: apt-get install varnish hitch)."""


def missing_binaries() -> list[str]:
    """Which of the edge's programs are not installed (varnishncsa: Debian's varnish has it)."""
    return [name for name in ("varnishd", "varnishncsa", "hitch") if find_binary(name) is None]


def _credentials() -> tuple[str, str]:
    from wishlist_dev.localaws import DEMO_CREDENTIALS

    return (
        os.environ.get("AWS_ACCESS_KEY_ID", DEMO_CREDENTIALS["AWS_ACCESS_KEY_ID"]),
        os.environ.get("AWS_SECRET_ACCESS_KEY", DEMO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]),
    )


class LocalEdge:
    """A CloudFront-shaped edge for one bucket, configured from deploy/'s template.

    `cdn_hosts`: served names (the first is the default; `*.localhost` ones also get plain
    HTTP). `template`: the template's path; None finds the source checkout's
    (`find_template`; outside a checkout, a `TemplateError`). `parameters`: template
    parameter overrides. `ttl_overrides`: see `EdgeConfig.with_ttl_overrides` (tests
    shorten error caching). `config` replaces the template entirely.
    `origin_lists_bucket`: None follows the bucket policy (404 vs 403 for missing keys).
    `access_logs`: deliver CloudFront-format access logs of what the edge serves there.
    Ports 0 are chosen free at the first start and kept across restarts.
    """

    def __init__(
        self,
        origin_endpoint: str,
        bucket: str,
        *,
        cdn_hosts: Sequence[str] = (DEFAULT_CDN_HOST,),
        template: Path | None = None,
        parameters: Mapping[str, str] | None = None,
        ttl_overrides: Mapping[str, int] | None = None,
        config: EdgeConfig | None = None,
        pop: str = DEFAULT_POP,
        region: str = "us-east-1",
        credentials: tuple[str, str] | None = None,
        http_port: int = 0,
        https_port: int = 0,
        origin_lists_bucket: bool | None = None,
        access_logs: AccessLogs | None = None,
    ) -> None:
        if not cdn_hosts:
            raise ValueError("cdn_hosts: name at least one CDN host")
        self.cdn_hosts = [h.lower() for h in cdn_hosts]
        if config is None:
            template = template or find_template()
            config = edge_config_from_template(template, parameters)
        self.config = config.with_ttl_overrides(ttl_overrides or {})
        self.template = template  # None: `config` was given
        self.pop = pop
        self.via_id = secrets.token_hex(16)
        self.origin = SigningOrigin.for_endpoint(
            origin_endpoint,
            bucket,
            region,
            credentials or _credentials(),
            read_prefixes=self.config.origin_read_prefixes,
            lists_bucket=self.config.origin_lists_bucket
            if origin_lists_bucket is None
            else origin_lists_bucket,
        )
        self._wanted_ports = (http_port, https_port)
        self.http_port = http_port
        self.https_port = https_port
        self._proxy_port = 0
        self._dir: Path | None = None
        self._varnish: Daemon | None = None
        self._hitch: Daemon | None = None
        self.access_logs = access_logs
        self._logger: AccessLogger | None = None
        self.vcl = ""

    # ------------------------------------------------------------------ addresses
    @property
    def cdn_host(self) -> str:
        return self.cdn_hosts[0]

    def https_url(self, host: str | None = None, path: str = "/") -> str:
        return f"https://{host or self.cdn_host}:{self.https_port}{path}"

    def http_url(self, host: str | None = None, path: str = "/") -> str:
        return f"http://{host or self.cdn_host}:{self.http_port}{path}"

    @property
    def purge_url(self) -> str:
        """Base URL for BAN/PURGE (loopback only): `LocalEdgePurger`'s, and
        `wishlist-dev resolver --edge-purge-url`'s."""
        return f"http://127.0.0.1:{self.http_port}"

    def purger(self, timeout: float = 2.0) -> LocalEdgePurger:
        """A resolver `Purger` that BANs each invalidated path here once CloudFront accepted
        it: `EmbeddedResolver(settings, purgers=[edge.purger()])`. Start the edge first."""
        if not self.http_port:
            raise RuntimeError("the edge has not been started")
        return LocalEdgePurger(self.purge_url, timeout=timeout)

    @property
    def access_log_folder(self) -> Path | None:
        """Where the access logs are delivered (`image-ops logs report` it), if anywhere."""
        return self.access_logs.folder if self.access_logs else None

    def roll_access_logs(self) -> list[Path]:
        """Deliver now the access logs of every request answered so far; the new files.
        (The edge also rolls every `AccessLogs.roll_seconds` and when it stops.)"""
        if self._logger is None or not self.running:
            raise RuntimeError("the edge is not running with access_logs")
        return self._logger.roll()

    @property
    def workdir(self) -> Path:
        if self._dir is None:
            raise RuntimeError("the edge has not been started")
        return self._dir

    @property
    def ca_cert_path(self) -> Path:
        """The CA that signed the edge's certificate (pass it as `verify=`)."""
        return self.workdir / "tls" / "edge-ca.pem"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the edge's CA (for httpx `verify=`, urllib, ...)."""
        return ssl.create_default_context(cafile=str(self.ca_cert_path))

    @property
    def running(self) -> bool:
        return bool(self._varnish and self._varnish.running and self._hitch and self._hitch.running)

    def failure(self) -> str | None:
        """None while the edge's daemons run; else which one exited, with its exit code."""
        daemons = [("varnishd", self._varnish), ("hitch", self._hitch)]
        if self._logger is not None:
            daemons.append(("varnishncsa", self._logger.daemon))
        for name, daemon in daemons:
            if daemon is None or daemon.process is None:
                return f"{name} is not running"
            code = daemon.process.poll()
            if code is not None:
                return f"{name} exited with code {code} (log: {daemon.log_path})"
        return None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> LocalEdge:
        """Start (or restart after `stop()`) Varnish and hitch; the origin starts once."""
        if self.running:
            return self
        missing = missing_binaries()
        if missing:
            raise EdgeUnavailable(
                f"{' and '.join(missing)} not found: apt-get install varnish hitch"
            )
        if self.access_logs is not None:  # an unusable folder fails here, before any daemon
            self.access_logs.folder.mkdir(parents=True, exist_ok=True)
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="wishlist-edge-"))
            self._dir.chmod(0o755)  # varnishd's unprivileged user reads the VCL
            make_certificate(self._dir / "tls", self.cdn_hosts)
        self.origin.start()
        attempts = 1 if (all(self._wanted_ports) or self._proxy_port) else 3
        for attempt in range(attempts):
            if not self._proxy_port or attempt:
                self._pick_ports()
            try:
                self._start_daemons()
                return self
            except EdgeStartError:
                self._stop_daemons()
                if attempt == attempts - 1:
                    raise
        return self

    def _pick_ports(self) -> None:
        self.http_port = self._wanted_ports[0] or free_port()
        self.https_port = self._wanted_ports[1] or free_port()
        self._proxy_port = free_port()

    def _start_daemons(self) -> None:
        workdir = self.workdir
        self.vcl = render_vcl(
            self.config,
            VclParams(
                origin_port=self.origin.port,
                https_port=self.https_port,
                cdn_hosts=self.cdn_hosts,
                pop=self.pop,
                via_id=self.via_id,
                source=self.template.name if self.template else "an EdgeConfig",
            ),
        )
        vcl_path = workdir / "edge.vcl"
        vcl_path.write_text(self.vcl)
        vcl_path.chmod(0o644)
        state = workdir / "varnish"
        shutil.rmtree(state, ignore_errors=True)
        self._varnish = Daemon(
            "varnishd",
            [
                str(find_binary("varnishd")),
                "-F",
                "-n", str(state),
                "-a", f"http=127.0.0.1:{self.http_port},HTTP",
                "-a", f"proxy=127.0.0.1:{self._proxy_port},PROXY",
                "-f", str(vcl_path),
                "-s", "malloc,64m",
                "-T", "127.0.0.1:0",
                "-p", "thread_pools=1",
                "-p", "thread_pool_min=10",
                "-p", "thread_pool_max=200",
            ],
            workdir / "varnishd.log",
        )  # fmt: skip
        self._varnish.start(self._varnish_answers)
        if self.access_logs is not None:
            self._logger = self._logger or AccessLogger(
                self.access_logs, self.cdn_host, workdir, self._probe
            )
            self._logger.start(state)
        hitch_conf = workdir / "hitch.conf"
        hitch_conf.write_text(
            f'frontend = "[127.0.0.1]:{self.https_port}"\n'
            f'backend = "[127.0.0.1]:{self._proxy_port}"\n'
            f'pem-file = "{workdir / "tls" / "edge.pem"}"\n'
            f'ocsp-dir = "{workdir}"\n'
            'alpn-protos = "http/1.1"\n'
            "tls-protos = TLSv1.2 TLSv1.3\n"
            "write-proxy-v2 = on\n"
            "workers = 1\n"
            "daemon = off\n" + self._hitch_user()
        )
        self._hitch = Daemon(
            "hitch",
            [str(find_binary("hitch")), f"--config={hitch_conf}"],
            workdir / "hitch.log",
        )
        self._hitch.start(lambda: tcp_open(self.https_port))

    def _hitch_user(self) -> str:
        """hitch refuses to run its workers as root: drop to an unprivileged user that can
        read the (throwaway) key."""
        if os.geteuid() != 0:
            return ""
        import pwd

        for name in ("_hitch", "hitch", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            os.chown(self.workdir / "tls" / "edge.pem", entry.pw_uid, entry.pw_gid)
            return f'user = "{name}"\n'
        raise EdgeStartError("hitch needs an unprivileged user (_hitch or nobody) when run as root")

    def _varnish_answers(self) -> bool:
        """Ready once the child answers HTTP (the listen socket exists before the VCL loads)."""
        return self._probe("/")

    def _probe(self, path: str) -> bool:
        """GET `path` as no distribution's host: answered by the VCL, never logged."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=1)
        try:
            conn.request("GET", path, headers={"Host": PROBE_HOST})
            return conn.getresponse().status > 0
        except OSError:
            return False
        finally:
            conn.close()

    def _stop_daemons(self) -> None:
        if self._hitch is not None:
            self._hitch.stop()
        if self._logger is not None:  # before varnishd: its last requests are synced
            self._logger.stop(sync=bool(self._varnish and self._varnish.running))
        if self._varnish is not None:
            self._varnish.stop()

    def stop(self) -> None:
        """Take the CDN down (connections refused); `start()` brings it back, cache empty."""
        self._stop_daemons()

    def close(self) -> None:
        self._stop_daemons()
        self.origin.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> LocalEdge:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers
    def request(
        self,
        method: str,
        path: str,
        *,
        host: str | None = None,
        tls: bool = True,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> httpx.Response:
        """One request to the edge as a viewer of `host` would make it (Host and SNI set,
        certificate verified against the edge's CA), without DNS for the CDN name."""
        import httpx

        host = host or self.cdn_host
        port = self.https_port if tls else self.http_port
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}"
        with httpx.Client(verify=self.ssl_context(), timeout=timeout) as client:
            return client.request(
                method,
                url,
                headers={"Host": host, **(headers or {})},
                extensions={"sni_hostname": host} if tls else {},
            )

    def purge(self, path: str) -> int:
        """Invalidate one path (`*` suffix: a prefix), as the resolver does; returns the status."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=5)
        try:
            conn.request("BAN", path, headers={"Host": self.cdn_host})
            return conn.getresponse().status
        finally:
            conn.close()
