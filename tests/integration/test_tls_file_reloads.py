"""TLS files as operators replace them, and what /metrics says of them.

- A Kubernetes Secret mounted as a volume: the kubelet writes a new
  timestamped directory and renames a `..data` link over the old one, so the
  certificate and key (or the ticket keys) change in one step, seen through
  `name -> ..data/name` links. Sluice picks the new files up.
- A broken file is refused once: the log line and the refusal counter do not
  repeat at every check while the same bytes stay; a further change is tried.
- The dates operators alert on: each certificate's notAfter and its OCSP
  response's nextUpdate, per listener, compared with what openssl reads from
  the same files; a certificate dropped by a reload leaves the scrape.
- Without Prometheus: a certificate that expired or expires within two weeks
  is named in the log (at start, on SIGHUP, when replaced) and by
  `sluice check-config`, and is still served.
"""
import base64
import datetime
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BIN, SLOW, free_port
from test_metrics import parse, scrape, value
from tls_support import Pki, replace, run, s_client, served_subject, tls_tables

NOT_AFTER = "sluice_tls_certificate_not_after_timestamp_seconds"
NEXT_UPDATE = "sluice_tls_ocsp_next_update_timestamp_seconds"
RELOADS = "sluice_tls_file_reloads_total"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.rsa = p.leaf("mx.sluice.test", "rsa")
    return p


class SecretVolume:
    """A directory laid out as the kubelet mounts a Secret (its atomic writer):
    the files live in a timestamped directory, `..data` links to it, and each
    key is a link `name -> ..data/name`. An update writes a new timestamped
    directory, renames a fresh `..data` link over the old one (the one atomic
    step), then adds links for new names, drops links of gone ones and removes
    the old directory."""

    def __init__(self, path):
        self.path = path
        self.path.mkdir()
        self.generation = 0
        self.names = set()

    def write(self, files):
        self.generation += 1
        stamp = f"..2026_12_07_20_00_{self.generation:02d}.{os.getpid()}"
        new_dir = self.path / stamp
        new_dir.mkdir()
        for name, data in files.items():
            (new_dir / name).write_bytes(data)
        old = os.readlink(self.path / "..data") if (self.path / "..data").is_symlink() else None
        tmp = self.path / "..data_tmp"
        tmp.symlink_to(stamp)
        os.replace(tmp, self.path / "..data")
        for name in files:
            if not (self.path / name).is_symlink():
                (self.path / name).symlink_to(f"..data/{name}")
        for name in self.names - set(files):
            (self.path / name).unlink()
        self.names = set(files)
        if old:
            shutil.rmtree(self.path / old)


def metric(gw, name, **labels):
    return value(parse(scrape(gw)), name, **labels)


def samples_of(gw, name):
    return {dict(labels).get("certificate"): v for (n, labels), v in parse(scrape(gw)).items() if n == name}


def openssl_time(text):
    """A time as openssl prints it ("Dec  7 20:00:00 2026 GMT") in seconds since the epoch."""
    when = datetime.datetime.strptime(" ".join(text.replace(" GMT", "").split()), "%b %d %H:%M:%S %Y")
    return int(when.replace(tzinfo=datetime.timezone.utc).timestamp())


def not_after(cert):
    out = run(["openssl", "x509", "-in", cert, "-noout", "-enddate"]).stdout.decode().strip()
    return openssl_time(out.split("=", 1)[1])


def next_update(der):
    out = run(["openssl", "ocsp", "-respin", der, "-resp_text", "-noverify"]).stdout.decode()
    line = next(l for l in out.splitlines() if "Next Update:" in l)
    return openssl_time(line.split("Next Update:", 1)[1])


def quiet_checks(gw, seconds=3.5):
    """Lets several 1 s file checks go by."""
    time.sleep(seconds * SLOW)
    assert gw.proc.poll() is None, gw.log()[-2000:]


def test_secret_volume_update_replaces_certificate_and_key_at_once(sluice, pki, tmp_path):
    vol = SecretVolume(tmp_path / "secret")
    vol.write({"tls.crt": pki.rsa[0].read_bytes(), "tls.key": pki.rsa[1].read_bytes()})
    gw = sluice.start(**tls_tables([(vol.path / "tls.crt", vol.path / "tls.key", [], {})],
                                   tls={"reload_check_interval": "1s"}))
    assert "CN = mx.sluice.test" in served_subject(s_client(gw.port, "-CAfile", str(pki.ca)))
    assert metric(gw, NOT_AFTER, listener="smtp", certificate=str(vol.path / "tls.crt")) == not_after(pki.rsa[0])
    # Renewed as cert-manager would: another key type and name, both files in one swap.
    cert, key = pki.leaf("renewed.sluice.test", "ec", days=9)
    vol.write({"tls.crt": cert.read_bytes(), "tls.key": key.read_bytes()})
    gw.wait_log("event=tls_reloaded")
    out = s_client(gw.port, "-CAfile", str(pki.ca))
    assert "CN = renewed.sluice.test" in served_subject(out), out
    assert "event=tls_reload_refused" not in gw.log()  # never a half-replaced pair
    assert metric(gw, NOT_AFTER, listener="smtp", certificate=str(vol.path / "tls.crt")) == not_after(cert)
    assert metric(gw, RELOADS, files="certificates", result="ok") == 1


def test_secret_volume_ticket_keys_shared_by_two_replicas(sluice, pki, tmp_path):
    one = base64.b64encode(os.urandom(48)) + b"\n"
    vol = SecretVolume(tmp_path / "ticket-keys")
    vol.write({"1": one})
    a, b = (sluice.start(**tls_tables([(*pki.rsa, [], {})],
                                      tls={"ticket_key_file": str(vol.path), "reload_check_interval": "1s"}))
            for _ in range(2))
    sess = tmp_path / "sess"
    assert "New," in s_client(a.port, "-tls1_2", "-CAfile", str(pki.ca), "-sess_out", str(sess))
    # Rotation through the Secret: key 2 added (it seals now), key 1 kept for the overlap.
    vol.write({"1": one, "2": base64.b64encode(os.urandom(48)) + b"\n"})
    # The kubelet adds the links of new names after the swap: a check in
    # between reloads the old names' new contents first, then the new name.
    for gw in (a, b):
        gw.wait_log("event=tls_ticket_keys_reloaded file=" + str(vol.path) + " keys=2")
    assert "Reused," in s_client(b.port, "-tls1_2", "-CAfile", str(pki.ca), "-sess_in", str(sess))
    # Key 1 retired: its ticket no longer opens on either.
    vol.write({"2": (vol.path / "2").read_bytes()})
    b.wait_log("event=tls_ticket_keys_reloaded file=" + str(vol.path) + " keys=1")
    assert "Reused," not in s_client(b.port, "-tls1_2", "-CAfile", str(pki.ca), "-sess_in", str(sess))
    assert metric(b, RELOADS, files="ticket_keys", result="ok") >= 2
    assert metric(b, RELOADS, files="ticket_keys", result="refused") == 0


def test_broken_certificate_is_refused_once_until_it_changes(sluice, pki, tmp_path):
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(pki.rsa[0], cert)
    shutil.copy(pki.rsa[1], key)
    gw = sluice.start(**tls_tables([(cert, key, [], {})], tls={"reload_check_interval": "1s"}))
    replace(cert, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    gw.wait_log("event=tls_reload_refused")
    quiet_checks(gw)
    assert gw.log().count("event=tls_reload_refused") == 1, gw.log()[-2000:]
    assert metric(gw, RELOADS, files="certificates", result="refused") == 1
    # Broken another way: that is a new state, tried and refused once more.
    replace(cert, "not PEM at all\n")
    gw.wait_log("event=tls_reload_refused", count=2)
    quiet_checks(gw)
    assert gw.log().count("event=tls_reload_refused") == 2
    assert "CN = mx.sluice.test" in served_subject(s_client(gw.port, "-CAfile", str(pki.ca)))
    # Mended: a new pair is taken.
    new_cert, new_key = pki.leaf("mended.sluice.test", "rsa")
    replace(key, new_key.read_bytes())
    replace(cert, new_cert.read_bytes())
    gw.wait_log("event=tls_reloaded")
    assert "CN = mended.sluice.test" in served_subject(s_client(gw.port, "-CAfile", str(pki.ca)))
    assert metric(gw, RELOADS, files="certificates", result="ok") == 1


def test_broken_ticket_key_file_is_refused_once_until_it_changes(sluice, pki, tmp_path):
    keys = tmp_path / "ticket.keys"
    keys.write_bytes(base64.b64encode(os.urandom(48)) + b"\n")
    gw = sluice.start(**tls_tables([(*pki.rsa, [], {})],
                                   tls={"ticket_key_file": str(keys), "reload_check_interval": "1s"}))
    replace(keys, "not base64 at all\n")
    gw.wait_log("event=tls_ticket_keys_refused")
    quiet_checks(gw)
    assert gw.log().count("event=tls_ticket_keys_refused") == 1, gw.log()[-2000:]
    assert metric(gw, RELOADS, files="ticket_keys", result="refused") == 1
    # A SIGHUP asks for everything to be tried again: refused once more.
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=tls_ticket_keys_refused", count=2)
    quiet_checks(gw)
    assert gw.log().count("event=tls_ticket_keys_refused") == 2, gw.log()[-2000:]
    # Emptied (a Secret with no keys left): a state of its own, refused too.
    keys.unlink()
    gw.wait_log("event=tls_ticket_keys_refused", count=3)
    assert "cannot read" in gw.log().split("event=tls_ticket_keys_refused")[3].splitlines()[0]
    replace(keys, base64.b64encode(os.urandom(48)) + b"\n")
    gw.wait_log("event=tls_ticket_keys_reloaded")
    assert metric(gw, RELOADS, files="ticket_keys", result="ok") == 1


def test_client_ca_file_is_watched_with_the_certificates(sluice, pki, tmp_path):
    # A renewed certificate refused because the client CA file was broken at
    # that moment is taken once the CA file is mended: the CA file is one of
    # the files a rebuild reads, so its change is a change of the set.
    ca = tmp_path / "clients-ca.pem"
    replace(ca, pki.ca.read_bytes())
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    replace(cert, pki.rsa[0].read_bytes())
    replace(key, pki.rsa[1].read_bytes())
    gw = sluice.start(**tls_tables([(cert, key, [], {})],
                                   tls={"reload_check_interval": "1s", "client_ca_file": str(ca)}))
    replace(ca, "not a certificate\n")
    gw.wait_log("event=tls_reload_refused")
    assert "client_ca_file" in gw.log().split("event=tls_reload_refused")[1].splitlines()[0]
    new_cert, new_key = pki.leaf("renewed-ca.sluice.test", "ec")
    replace(key, new_key.read_bytes())
    replace(cert, new_cert.read_bytes())
    gw.wait_log("event=tls_reload_refused", count=2)
    replace(ca, pki.ca.read_bytes())
    gw.wait_log("event=tls_reloaded")
    assert "CN = renewed-ca.sluice.test" in served_subject(s_client(gw.port, "-CAfile", str(pki.ca)))


def test_certificate_and_ocsp_dates_per_listener(sluice, pki, tmp_path):
    chain = pki.fullchain(pki.rsa[0], tmp_path / "mx-fullchain.pem")
    ocsp = pki.ocsp_response(pki.rsa[0], tmp_path / "mx.ocsp", days=3)
    ec = pki.leaf("ec.sluice.test", "ec", days=12)
    sub = pki.leaf("submit.sluice.test", "rsa", days=5)
    submission = {"name": "submission", "address": "127.0.0.1", "port": free_port(), "tls": "implicit",
                  "tls_certificate": [{"cert": str(sub[0]), "key": str(sub[1])}]}
    tables = tls_tables([(chain, pki.rsa[1], [], {"ocsp": str(ocsp)}),
                         (*ec, ["ec.sluice.test"], {})], extra_listeners=[submission])
    gw = sluice.start(**tables)
    dates = samples_of(gw, NOT_AFTER)
    assert dates == {str(chain): not_after(pki.rsa[0]), str(ec[0]): not_after(ec[0]),
                     str(sub[0]): not_after(sub[0])}, dates
    assert len({not_after(pki.rsa[0]), not_after(ec[0]), not_after(sub[0])}) == 3  # the test tells them apart
    assert metric(gw, NOT_AFTER, listener="submission", certificate=str(sub[0])) == not_after(sub[0])
    assert samples_of(gw, NEXT_UPDATE) == {str(chain): next_update(ocsp)}
    assert abs(next_update(ocsp) - (time.time() + 3 * 86400)) < 600
    # Reading the OCSP file at start is not a reload.
    assert metric(gw, RELOADS, files="ocsp", result="ok") == 0
    # A reload that drops the ECDSA certificate drops its sample too.
    tables = dict(gw.tables)
    tables["tls"] = {"certificate": [{"cert": str(chain), "key": str(pki.rsa[1]), "ocsp": str(ocsp)}]}
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded")
    assert samples_of(gw, NOT_AFTER) == {str(chain): not_after(pki.rsa[0]), str(sub[0]): not_after(sub[0])}
    assert metric(gw, RELOADS, files="ocsp", result="ok") == 0  # nor is reading it again on SIGHUP
    # A new response written over the file is.
    replace(ocsp, pki.ocsp_response(pki.rsa[0], tmp_path / "next.ocsp", days=5).read_bytes())
    gw.wait_log("event=tls_ocsp_loaded", count=3)
    assert metric(gw, RELOADS, files="ocsp", result="ok") == 1
    assert samples_of(gw, NEXT_UPDATE) == {str(chain): next_update(ocsp)}


def test_expired_and_expiring_certificates_are_named_and_still_served(sluice, pki, tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    expired = pki.dated_leaf("old.sluice.test", now - datetime.timedelta(days=90),
                             now - datetime.timedelta(days=1, hours=12))
    # Half a day off the whole days, so that the count does not tick while the test runs.
    soon = pki.dated_leaf("soon.sluice.test", now - datetime.timedelta(days=1), now + datetime.timedelta(days=4, hours=12))
    fine_cert, fine_key = tmp_path / "fine.pem", tmp_path / "fine.key"
    fine = pki.leaf("fine.sluice.test", "ec", days=30)
    replace(fine_cert, fine[0].read_bytes())
    replace(fine_key, fine[1].read_bytes())
    tables = tls_tables([(fine_cert, fine_key, [], {}), (*soon, ["soon.sluice.test"], {}),
                         (*expired, ["old.sluice.test"], {})], tls={"reload_check_interval": "1s"})
    gw = sluice.start(**tables)

    def warnings():
        return [l for l in gw.log().splitlines() if "event=tls_certificate_" in l]

    gw.wait_log("event=tls_certificate_expired")
    gw.wait_log("event=tls_certificate_expires_soon")
    (old_line,) = [l for l in warnings() if "event=tls_certificate_expired" in l]
    assert f"file={expired[0]}" in old_line and "days=1 " in old_line, old_line
    (soon_line,) = [l for l in warnings() if "event=tls_certificate_expires_soon" in l]
    assert f"file={soon[0]}" in soon_line and "days=4 " in soon_line, soon_line
    # Not again at every check: once, then when the whole days change (a day later).
    quiet_checks(gw)
    assert len(warnings()) == 2, warnings()
    # Still served: an expired certificate is for the client to judge.
    out = s_client(gw.port, "-servername", "old.sluice.test")
    assert "CN = old.sluice.test" in served_subject(out), out
    # check-config says the same, as warnings (exit 0).
    r = subprocess.run([BIN, "check-config", "--config", str(gw.config_path)], capture_output=True, text=True,
                       timeout=60, cwd=gw.dir)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stderr.splitlines() if "warning: tls certificate" in l]
    assert len(lines) == 2, r.stderr
    assert any(str(expired[0]) in l and "expired 1 day ago" in l for l in lines), lines
    assert any(str(soon[0]) in l and "expires in 4 days" in l for l in lines), lines
    # A SIGHUP names them again: an operator reloading sees the state now.
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded")
    gw.wait_log("event=tls_certificate_expired", count=2)
    gw.wait_log("event=tls_certificate_expires_soon", count=2)
    # A certificate replaced on disk by one that is due is named after the rebuild.
    short = pki.dated_leaf("short.sluice.test", now - datetime.timedelta(days=1), now + datetime.timedelta(days=2, hours=12))
    replace(fine_key, short[1].read_bytes())
    replace(fine_cert, short[0].read_bytes())
    gw.wait_log("event=tls_reloaded")
    gw.wait_log(f"event=tls_certificate_expires_soon listener=smtp file={fine_cert}")
    assert "days=2 " in warnings()[-1], warnings()[-1]
