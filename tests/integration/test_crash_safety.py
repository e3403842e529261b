"""Crash safety of the durable spool (storage issue): SIGKILL at random
moments under load, 20 rounds, restart on the same spool each time.

What must hold after every restart:
- every message a client saw acknowledged (250 with its id) is in the queue
  under that id, byte for byte what the client sent (after our Received:);
- nothing else is there but complete copies of messages some client sent
  (a commit whose 250 was lost in the kill may be there; it must be whole);
- no half-received message: no body file left that no record names.
"""
import random
import re
import signal
import smtplib
import threading
import time

from conftest import SLOW, split_received, spool_tmp_files, wait_until

ROUNDS = 20
CLIENTS = 8


def message_for(token, size):
    body = "".join(f"{token} line {i:06d} " + "x" * 60 + "\r\n" for i in range(max(1, size // 80)))
    return f"Message-ID: <{token}@crash.test>\r\nSubject: {token}\r\n\r\n{body}"


class Load:
    """Client threads sending until stopped; remembers what was sent and acknowledged."""

    def __init__(self, port, rng):
        self.port, self.rng = port, rng
        self.sent = {}        # token -> bytes of the message as sent
        self.acked = {}       # queue id -> token
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(n,), daemon=True) for n in range(CLIENTS)]

    def client(self, n):
        seq = 0
        while not self.stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5 * SLOW) as c:
                    while not self.stop.is_set():
                        seq += 1
                        token = f"c{n}-{self.rng.getrandbits(40):010x}-{seq}"
                        # Mostly small (inline in LMDB), some past inline_max (a body file).
                        size = self.rng.choice([500, 2000, 8000, 200_000])
                        msg = message_for(token, size)
                        with self.lock:
                            self.sent[token] = msg.encode()
                        c.ehlo_or_helo_if_needed()
                        c.mail("sender@crash.test")
                        c.rcpt("rcpt@example.test")
                        code, resp = c.data(msg)
                        if code == 250:
                            m = re.search(rb"id=(\S+)", resp)
                            assert m, resp
                            with self.lock:
                                self.acked[m.group(1).decode()] = token
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)  # the server is down or restarting: try again

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def check_queue(gw, load):
    queued = gw.queued()
    with load.lock:
        acked = dict(load.acked)
        sent = dict(load.sent)
    missing = [mid for mid in acked if mid not in queued]
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {missing[:3]}"
    for mid, (rec, data) in queued.items():
        _, stored = split_received(data)
        token = re.search(rb"Message-ID: <([^@]+)@crash.test>", stored)
        assert token, f"{mid}: not one of ours: {stored[:200]!r}"
        token = token.group(1).decode()
        assert stored == sent[token], f"{mid}: stored bytes differ from what {token} sent"
        if mid in acked:
            assert acked[mid] == token, f"{mid} was acknowledged for {acked[mid]} but holds {token}"
    return len(acked), len(queued)


def test_sigkill_under_load_loses_nothing_acknowledged(sluice):
    rng = random.Random(20261122)
    gw = sluice.start(workers=2, log={"level": "info"})
    load = Load(gw.port, rng)
    load.start()
    kills = 0
    try:
        for round_no in range(1, ROUNDS + 1):
            # Let the clients get going, then kill at a random moment.
            before = len(load.acked)
            assert wait_until(lambda: len(load.acked) > before + 5, timeout=20), "no progress after restart"
            time.sleep(rng.uniform(0.0, 0.4) * SLOW)
            gw.proc.send_signal(signal.SIGKILL)
            gw.proc.wait()
            kills += 1
            gw._log.close()
            gw.start(wait=False)
            gw.wait_log("event=started", count=round_no + 1, timeout=30)
    finally:
        load.finish()
    assert kills == ROUNDS
    acked, queued = check_queue(gw, load)
    assert acked > ROUNDS * 5
    # Recovery after each kill removed what was half received, and no body
    # file outlives its message now that the clients have stopped.
    assert wait_until(lambda: spool_tmp_files(gw) == [], timeout=10), spool_tmp_files(gw)
    recoveries = [l for l in gw.log().splitlines() if "event=spool_recovered" in l]
    assert len(recoveries) == ROUNDS + 1
    print(f"{kills} kills, {acked} acknowledged, {queued} queued (incl. commits whose 250 was lost)")
