"""Shared fixtures for the integration tests: start the real `sluice` binary
on a free loopback port with a config the test writes, and look at what it
spooled and logged.

    def test_x(sluice):
        gw = sluice.start(smtp={"local_domains": ["example.test"]})
        with smtplib.SMTP("127.0.0.1", gw.port) as c: ...
        assert len(gw.queued()) == 1

The binary is $SLUICE_BIN, else build/sluice. Every process started is
stopped at the end of its test (SIGTERM, then SIGKILL after 10 s).
"""
import base64
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SLUICE_BIN", str(ROOT / "build" / "sluice"))
SANITIZED = os.environ.get("SLUICE_SANITIZED") == "1"
# Sanitizer builds are several times slower: tests scale their waits by this.
SLOW = 4 if SANITIZED else 1


_ports_given = set()


def free_port():
    """A port free now and not handed out before in this test run: the
    kernel may offer the same ephemeral port to two quick binds (a listener
    and the metrics endpoint of one config were once given the same one)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # an inline table: [filters] spf = {timeout = "1s"}
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v))


def render_toml(tables):
    """tables: {"smtp": {...}, "limits": {...}, "listener": [{...}], "workers": 2}"""
    out = []
    for k, v in tables.items():
        if not isinstance(v, (dict, list)) or (isinstance(v, list) and v and not isinstance(v[0], dict)):
            out.append(f"{k} = {toml_value(v)}")
    def is_table_list(x):
        return isinstance(x, list) and x and isinstance(x[0], dict)

    def body(k, d):
        # Plain keys first, then sub-tables as [[k.sub]] (e.g. [[tls.certificate]]).
        out.extend(f"{kk} = {toml_value(vv)}" for kk, vv in d.items() if not is_table_list(vv))
        for kk, vv in d.items():
            if is_table_list(vv):
                for item in vv:
                    out.append(f"\n[[{k}.{kk}]]")
                    out.extend(f"{k3} = {toml_value(v3)}" for k3, v3 in item.items())

    for k, v in tables.items():
        if isinstance(v, dict):
            out.append(f"\n[{k}]")
            body(k, v)
        elif is_table_list(v):
            for item in v:
                out.append(f"\n[[{k}]]")
                body(k, item)
    return "\n".join(out) + "\n"


class Gateway:
    def __init__(self, workdir, tables, env=None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        # The spool directory the config names (relative to the gateway's cwd).
        self.spool = self.dir / tables.get("spool", {}).get("directory", "spool")
        self.log_path = self.dir / "sluice.log"
        self.tables = tables
        self.config_path = self.dir / "sluice.toml"
        self.config_path.write_text(render_toml(tables))
        self.port = tables["listener"][0]["port"]
        self.ports = {l["name"]: l["port"] for l in tables["listener"]}
        self.metrics_port = tables.get("metrics", {}).get("port")
        self.env = env
        self.proc = None

    def start(self, wait=True):
        self._log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen([BIN, "run", "--config", str(self.config_path)],
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir, env=env)
        if wait:
            self.wait_log("event=started", timeout=15 * SLOW)
        return self

    def rewrite_config(self, tables):
        self.tables = tables
        self.config_path.write_text(render_toml(tables))

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, needle, timeout=10, count=1):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if self.log().count(needle) >= count:
                return True
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"sluice exited ({self.proc.returncode}) before logging {needle!r}:\n{self.log()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"timeout waiting for {needle!r} in log:\n{self.log()[-3000:]}")

    def queued(self):
        """Committed messages: {id: (record dict, data bytes)}, read with
        `sluice queue list --json --data` (the record is the envelope plus the
        queue's state fields)."""
        return read_queue(self.spool)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()
        return self.proc.returncode if self.proc else None


class GatewayFactory:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.all = []

    def config(self, **tables):
        """Default test config merged with overrides (one level deep)."""
        base = {
            "workers": 2,
            "log": {"level": "debug"},
            "listener": [{"name": "smtp", "address": "127.0.0.1", "port": free_port()}],
            "smtp": {"hostname": "mx.sluice.test", "local_domains": ["example.test"],
                     "trusted_networks": []},
            "spool": {"directory": "spool"},
            # Never the default 9125: tests run in parallel with other gateways.
            "metrics": {"address": "127.0.0.1", "port": free_port()},
            # The filters ask DNS; tests of them (test_filters.py) turn them on
            # with a real DNS server of their own, the others must not depend
            # on whatever resolver the machine has.
            "filters": {"enabled": False},
        }
        for k, v in tables.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                base[k] = {**base[k], **v}
            else:
                base[k] = v
        return base

    def start(self, env=None, wait=True, **tables):
        gw = Gateway(self.tmp / f"gw{len(self.all)}", self.config(**tables), env=env)
        self.all.append(gw)
        return gw.start(wait=wait)

    def stop_all(self):
        for gw in self.all:
            gw.stop()


@pytest.fixture
def sluice(tmp_path):
    f = GatewayFactory(tmp_path)
    yield f
    f.stop_all()
    if SANITIZED:
        for gw in f.all:
            assert "ERROR: AddressSanitizer" not in gw.log() and "runtime error:" not in gw.log(), gw.log()[-4000:]


class Raw:
    """A raw SMTP client socket for byte-exact tests."""

    def __init__(self, port, host="127.0.0.1", timeout=10, source=None, rcvbuf=None):
        if rcvbuf is None:
            self.s = socket.create_connection((host, port), timeout=timeout * SLOW,
                                              source_address=(source, 0) if source else None)
        else:
            # Set before connecting, so the window offered from the start is small.
            self.s = socket.socket()
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.s.settimeout(timeout * SLOW)
            if source:
                self.s.bind((source, 0))
            self.s.connect((host, port))
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def read_reply(self):
        """One complete (possibly multi-line) reply: (code, [lines])."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise ConnectionError(f"closed; got {lines!r} buf={self.buf!r}")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            text = line.decode(errors="replace")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return int(text[:3]), lines

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.read_reply()

    def closed(self, timeout=5):
        """True when the server has closed the connection (EOF), reading away anything left."""
        self.s.settimeout(timeout * SLOW)
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def replies(self, n):
        """The next n replies, in order: [(code, [lines]), ...]."""
        return [self.read_reply() for _ in range(n)]

    def expect(self, line, code, enhanced=None):
        """Sends `line`, asserts the reply's code (and enhanced code); returns its lines."""
        got, lines = self.cmd(line)
        assert got == code, f"{line!r}: expected {code}, got {lines!r}"
        if enhanced is not None:
            assert lines[-1][4:].startswith(enhanced + " "), f"{line!r}: expected {enhanced}, got {lines!r}"
        return lines

    def close(self):
        self.s.close()


# ---------------------------------------------------------------------------
# Helpers shared by the protocol tests (tests/integration/test_*.py).


def greet(port, helo="client.test", **kw):
    """A Raw client that has read the banner and sent EHLO (or HELO with helo=("HELO", name))."""
    r = Raw(port, **kw)
    code, lines = r.read_reply()
    assert code == 220, lines
    verb, name = helo if isinstance(helo, tuple) else ("EHLO", helo)
    code, lines = r.cmd(f"{verb} {name}")
    assert code == 250, lines
    return r


def split_received(data):
    """Spooled data -> (our Received header as text, the client's bytes after it).

    The header is the first line plus its folded continuation lines (starting with TAB)."""
    assert data.startswith(b"Received: "), data[:200]
    pos = data.index(b"\r\n") + 2
    while data[pos:pos + 1] == b"\t":
        pos = data.index(b"\r\n", pos) + 2
    return data[:pos].decode(errors="replace"), data[pos:]


def proc_status(pid):
    """/proc/PID/status as {key: value in kB (int) or text}."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        v = v.strip()
        out[k] = int(v.split()[0]) if v.endswith(" kB") else v
    return out


def read_queue(spool_dir):
    """{id: (record dict, data bytes)} for the spool at spool_dir ({} if none)."""
    spool_dir = Path(spool_dir)
    if not (spool_dir / "queue" / "data.mdb").exists():
        return {}
    out = subprocess.run([BIN, "queue", "--spool", str(spool_dir), "list", "--json", "--data"],
                         capture_output=True, check=True, timeout=120 * SLOW).stdout
    result = {}
    for line in out.decode().splitlines():
        rec = json.loads(line)
        data = base64.b64decode(rec.pop("data_b64")) if "data_b64" in rec else None
        result[rec["id"]] = (rec, data)
    return result


def spool_tmp_files(gw):
    """Body files in the spool that no committed record names: messages being
    received (spilled past spool.inline_max), or left half-written."""
    d = gw.spool / "bodies"
    if not d.exists():
        return []
    named = {mid for mid, (rec, _) in gw.queued().items() if rec.get("body_place") == "file"}
    return sorted(p.name for p in d.iterdir() if p.name not in named)


def wait_until(pred, timeout=5, interval=0.02):
    """Polls pred() until true (timeout scaled by SLOW); returns its last value."""
    deadline = time.time() + timeout * SLOW
    while True:
        v = pred()
        if v or time.time() >= deadline:
            return v
        time.sleep(interval)


class Peer:
    """A real peer program (nginx, haproxy, ...) run as a child of the test.

    Output goes to a file in the test's directory; stop() ends exactly this
    process by its pid (SIGTERM, then SIGKILL), never anything found by name.
    """

    def __init__(self, argv, log_path, env=None, cwd=None):
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def wait_port(port, host="127.0.0.1", timeout=10, peer=None):
    """Waits until something accepts on host:port (a peer finished starting)."""
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        if peer is not None and not peer.alive():
            raise AssertionError(f"{peer.argv[0]} exited ({peer.proc.returncode}):\n{peer.log()[-3000:]}")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening on {host}:{port} after {timeout} s"
                         + (f":\n{peer.log()[-3000:]}" if peer else ""))


@pytest.fixture
def peers():
    """Collects Peer processes; every one still running is stopped after the test."""
    started = []

    def start(argv, log_path, **kw):
        p = Peer(argv, log_path, **kw)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def memory_test_env():
    """env= for sluice.start() in tests that measure VmHWM. ASan keeps freed
    blocks in quarantine (256 MB by default), which shows as resident memory
    and has nothing to do with Sluice's own bounds: keep it small there."""
    if not SANITIZED:
        return None
    return {"ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1").lstrip(":")}
