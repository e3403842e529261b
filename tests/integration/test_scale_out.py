"""Scale-out on one machine: haproxy in front of three Sluice processes.

haproxy (TCP mode, roundrobin, SMTP health checks, send-proxy-v2) spreads
connections over three Sluice processes, each with a PROXY-protocol listener
that trusts only 127.0.0.1. Client threads, each from its own loopback
address (127.0.0.10, .11, ...), send messages that each carry a unique
token, one SMTP connection per message, through haproxy. Mid-load one Sluice
is killed with SIGKILL: the clients retry what failed, and haproxy sends the
retries (and everything after) to the two that live. The killed one is then
started again on its spool and must rejoin.

What must hold:
- every backend received messages (the load spread);
- every stored message names its real client, the thread's own address,
  never haproxy's (the PROXY header was believed, and only from haproxy);
- every message whose 250 a client saw is in some spool, under the id that
  250 named, including those the killed process acknowledged before its
  death: an acknowledged message survives SIGKILL.
A retry after a 250 lost in the kill may store a message twice; duplicates
are reported, not failures (at-least-once is the contract).

Spools are read only through gw.queued() so the test holds whatever the
spool's format is.
"""
import os
import re
import shutil
import signal
import smtplib
import threading

import test_haproxy
import time
import uuid

import pytest

from conftest import SLOW, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

pytestmark = pytest.mark.skipif(not os.access(HAPROXY, os.X_OK),
                                reason="haproxy is not installed (scripts/install-deps.sh test)")

BACKENDS = 3
THREADS = 6
PER_THREAD = 40
ATTEMPTS = 6            # per message: the first try and up to five retries
KILL_AFTER = 1 / 3      # of all messages acknowledged
TOKEN = re.compile(rb"^X-Load-Token: (\S+)\r$", re.M)


def client_address(thread):
    return f"127.0.0.{10 + thread}"


class Haproxy(test_haproxy.Haproxy):
    """A private haproxy balancing round robin over the given backend ports,
    with SMTP health checks; start-up and `show stat` come from test_haproxy."""

    def __init__(self, peers, d, backend_ports):
        d.mkdir()
        self.port = free_port()
        self.stats = d / "admin.sock"
        servers = "\n".join(f"    server s{i} 127.0.0.1:{p}" for i, p in enumerate(backend_ports))
        cfg = d / "haproxy.cfg"
        cfg.write_text(f"""
global
    stats socket {self.stats} mode 600 level admin

defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch

frontend fe
    bind 127.0.0.1:{self.port}
    default_backend be

backend be
    balance roundrobin
    option smtpchk EHLO haproxy.test
    default-server send-proxy-v2 check inter 200 fall 1 rise 2
{servers}
""")
        self._start(peers, cfg, d)

    def server(self, i):
        return self.show_stat()[("be", f"s{i}")]

    def wait_status(self, i, status, timeout=10):
        deadline = time.time() + timeout * SLOW
        while (srv := self.server(i))["status"] != status:
            assert time.time() < deadline, (srv, self.proc.log()[-2000:])
            time.sleep(0.05)


class Load:
    """THREADS client threads, PER_THREAD messages each, retrying failures."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.acked = {}      # token -> (client address, id from the 250)
        self.retries = []    # (token, error) for every failed attempt
        self.failed = []     # tokens that never got a 250
        self.threads = [threading.Thread(target=self.client, args=(t,), daemon=True) for t in range(THREADS)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self, timeout):
        deadline = time.time() + timeout * SLOW
        for t in self.threads:
            t.join(max(0.1, deadline - time.time()))
        assert not any(t.is_alive() for t in self.threads), "client threads still running"

    def count(self):
        with self.lock:
            return len(self.acked)

    def client(self, thread):
        source = client_address(thread)
        for n in range(PER_THREAD):
            token = f"t{thread}-{n}-{uuid.uuid4().hex[:12]}"
            for _ in range(ATTEMPTS):
                try:
                    mid = deliver(self.port, source, token)
                except (smtplib.SMTPException, OSError) as e:
                    with self.lock:
                        self.retries.append((token, repr(e)))
                    time.sleep(0.1)
                    continue
                with self.lock:
                    self.acked[token] = (source, mid)
                break
            else:
                with self.lock:
                    self.failed.append(token)


def deliver(port, source, token):
    """One message in one connection; returns the id its 250 named.

    The 250 counts as soon as it is read: a QUIT that fails after it (the
    backend killed in between) does not undo the acknowledgement."""
    c = smtplib.SMTP(timeout=10 * SLOW, local_hostname="client.test", source_address=(source, 0))
    try:
        code, msg = c.connect("127.0.0.1", port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, msg)
        if c.ehlo()[0] != 250:
            raise smtplib.SMTPHeloError(*c.ehlo_resp)
        code, msg = c.mail("load@client.test")
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, msg, "load@client.test")
        code, msg = c.rcpt("rcpt@example.test")
        if code != 250:
            raise smtplib.SMTPRecipientsRefused({"rcpt@example.test": (code, msg)})
        code, msg = c.data(f"Message-ID: <{token}@client.test>\r\nX-Load-Token: {token}\r\n"
                           f"Subject: scale-out\r\n\r\nbody of {token}\r\n")
        if code != 250:
            raise smtplib.SMTPDataError(code, msg)
        return msg.decode().split("id=")[1].split()[0]
    finally:
        try:
            c.quit()
        except (smtplib.SMTPException, OSError):
            c.close()


def stored(gateways):
    """token -> [(backend index, id, envelope, data)] across every spool."""
    out = {}
    for i, gw in enumerate(gateways):
        for mid, (env, data) in gw.queued().items():
            m = TOKEN.search(data)
            assert m, f"backend {i} message {mid} has no token:\n{data[:500]!r}"
            out.setdefault(m.group(1).decode(), []).append((i, mid, env, data))
    return out


def test_three_backends_behind_haproxy_survive_a_sigkill(sluice, peers, tmp_path):
    gws = [sluice.start(listener=[{"name": "proxied", "address": "127.0.0.1", "port": free_port(),
                                   "proxy_protocol": True, "proxy_trusted": ["127.0.0.1"]}])
           for _ in range(BACKENDS)]
    hap = Haproxy(peers, tmp_path / "haproxy", [gw.port for gw in gws])
    for i in range(BACKENDS):
        hap.wait_status(i, "UP")

    load = Load(hap.port)
    load.start()
    total = THREADS * PER_THREAD
    deadline = time.time() + 60 * SLOW
    while load.count() < total * KILL_AFTER:
        assert time.time() < deadline, f"only {load.count()} messages acknowledged"
        time.sleep(0.01)
    victim = gws[1]
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    acked_at_kill = load.count()
    assert acked_at_kill < total, "the kill came after the load: nothing was tested"
    load.join(timeout=120)
    hap.wait_status(1, "DOWN")

    # Every message got its 250 in the end, through the two that lived.
    assert not load.failed, f"{len(load.failed)} messages never acknowledged: {load.retries[-5:]}"
    assert len(load.acked) == total
    assert int(hap.server(1)["chkdown"]) >= 1, hap.server(1)

    # The killed one starts again on its spool and rejoins the rotation.
    victim._log.close()
    victim.start()
    hap.wait_status(1, "UP")
    rejoin = {}
    for n in range(3 * BACKENDS):
        token = f"rejoin-{n}-{uuid.uuid4().hex[:12]}"
        rejoin[token] = ("127.0.0.50", deliver(hap.port, "127.0.0.50", token))

    for gw in gws:
        assert gw.stop() == 0, gw.log()[-2000:]
    found = stored(gws)

    # The load spread: each backend stored messages of the main run, and each
    # got some of the rejoin round (roundrobin, all three up).
    per_backend = [sum(1 for t, occ in found.items() if not t.startswith("rejoin-") for b, *_ in occ if b == i)
                   for i in range(BACKENDS)]
    assert all(per_backend), per_backend
    rejoined = {b for t, occ in found.items() if t.startswith("rejoin-") for b, *_ in occ}
    assert rejoined == set(range(BACKENDS)), rejoined

    # Every acknowledged message is stored under the id its 250 named.
    acked = {**load.acked, **rejoin}
    lost = [t for t, (_, mid) in acked.items() if mid not in {m for _, m, _, _ in found.get(t, [])}]
    assert not lost, f"{len(lost)} acknowledged messages missing from every spool: {lost[:5]}"
    # Including those the killed process acknowledged before SIGKILL.
    survivors = [t for t, occ in found.items() for b, *_ in occ if b == 1 and not t.startswith("rejoin-")]
    assert survivors, "the killed backend had acknowledged nothing before the kill"

    # Every stored copy names its real client, from the PROXY header.
    sources = {t: src for t, (src, _) in acked.items()}
    for token, occ in found.items():
        source = sources.get(token) or client_address(int(token.split("-")[0][1:]))
        for b, mid, env, data in occ:
            assert env["client_addr"] == source, (b, mid, env)
            assert env["origin"] == "proxy" and env["proxy_addr"] == "127.0.0.1", env
            received = data.split(b"\r\n\tby ", 1)[0].decode()
            assert re.fullmatch(rf"Received: from client\.test \(\[{re.escape(source)}\]:\d+ "
                                rf"via proxy \[127\.0\.0\.1\]\)", received), received

    duplicates = {t: len(o) for t, o in found.items() if len(o) > 1}
    unacked = [t for t in found if t not in acked]
    print(f"\nscale-out: {total} messages + {len(rejoin)} rejoin; per backend {per_backend}; "
          f"killed after {acked_at_kill} acks; {len(load.retries)} failed attempts retried; "
          f"{len(survivors)} acked by the killed backend survived; "
          f"{len(duplicates)} duplicates; {len(unacked)} stored without a 250 seen")
