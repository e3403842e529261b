"""TLS session resumption with stateless tickets (RFC 5077, RFC 8446 4.6.1):
openssl s_client -sess_out / -sess_in shows "Reused" for TLS 1.2 and 1.3;
the log marks the cipher with "*" and carries the resumption bits; two
Sluice processes that share a ticket-key file accept each other's tickets,
and one that does not share it refuses them (a full handshake follows);
the shared file is re-read when it changes."""
import base64
import os

import pytest

from tls_support import Pki, s_client, tls_tables


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.rsa = p.leaf("mx.sluice.test", "rsa")
    return p


def key_line():
    return base64.b64encode(os.urandom(48)).decode() + "\n"


def gateway(sluice, pki, **tls):
    return sluice.start(**tls_tables([(*pki.rsa, [], {})], tls=tls))


def session_pair(port, pki, tmp_path, version, resume_port=None):
    sess = tmp_path / f"sess-{version}-{port}"
    first = s_client(port, f"-tls1_{version[-1]}", "-CAfile", str(pki.ca), "-sess_out", str(sess))
    second = s_client(resume_port or port, f"-tls1_{version[-1]}", "-CAfile", str(pki.ca), "-sess_in", str(sess))
    return first, second


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_ticket_resumes(sluice, pki, tmp_path, version):
    gw = gateway(sluice, pki)
    first, second = session_pair(gw.port, pki, tmp_path, version)
    assert f"New, TLSv{version}" in first, first
    assert f"Reused, TLSv{version}" in second, second
    gw.wait_log("event=tls ", count=2)
    lines = [l for l in gw.log().splitlines() if "event=tls " in l]
    # First: support built, client asked, ticket issued. Second: offered and resumed, cipher starred.
    assert "resumption=SAI" in lines[0] and "*" not in lines[0].split("cipher=")[1].split()[0], lines
    assert "R" in lines[1].split("resumption=")[1].split()[0] and "O" in lines[1].split("resumption=")[1], lines
    assert lines[1].split("cipher=")[1].split()[0].endswith("*"), lines
    # The counters, by version, as logged at stop.
    gw.stop()
    v = version.replace(".", "")
    assert f"full_tls{v}=1 " in gw.log() and f"resumed_tls{v}=1 " in gw.log(), gw.log()[-600:]


def test_tickets_off(sluice, pki, tmp_path):
    gw = gateway(sluice, pki, session_tickets=False)
    first, second = session_pair(gw.port, pki, tmp_path, "1.2")
    assert "Reused" not in second, second


def test_shared_key_file_across_processes(sluice, pki, tmp_path):
    keys = tmp_path / "ticket.keys"
    keys.write_text(key_line() + key_line())
    os.chmod(keys, 0o600)
    a = gateway(sluice, pki, ticket_key_file=str(keys))
    b = gateway(sluice, pki, ticket_key_file=str(keys))
    stranger = gateway(sluice, pki)  # its own in-memory keys
    for version in ("1.2", "1.3"):
        first, second = session_pair(a.port, pki, tmp_path, version, resume_port=b.port)
        assert f"New, TLSv{version}" in first and f"Reused, TLSv{version}" in second, (first, second)
        _, refused = session_pair(a.port, pki, tmp_path, version, resume_port=stranger.port)
        assert "Reused" not in refused and f"New, TLSv{version}" in refused, refused


def test_shared_key_directory_rotation(sluice, pki, tmp_path):
    # A directory as a Kubernetes Secret is mounted: files in name order, the last key seals.
    d = tmp_path / "secret"
    d.mkdir()
    (d / "a-old").write_text(key_line())
    a = gateway(sluice, pki, ticket_key_file=str(d), reload_check_interval="1s")
    b = gateway(sluice, pki, ticket_key_file=str(d), reload_check_interval="1s")
    sess = tmp_path / "sess-old"
    assert "New," in s_client(a.port, "-tls1_2", "-CAfile", str(pki.ca), "-sess_out", str(sess))
    # Rotate: a new key is added; the old one still opens tickets on both.
    (d / "b-new").write_text(key_line())
    a.wait_log("event=tls_ticket_keys_reloaded")
    b.wait_log("event=tls_ticket_keys_reloaded")
    assert "Reused," in s_client(b.port, "-tls1_2", "-CAfile", str(pki.ca), "-sess_in", str(sess))
    # Retire the old key: its tickets are refused (a full handshake), new ones work across replicas.
    (d / "a-old").unlink()
    a.wait_log("event=tls_ticket_keys_reloaded", count=2)
    b.wait_log("event=tls_ticket_keys_reloaded", count=2)
    assert "Reused," not in s_client(b.port, "-tls1_2", "-CAfile", str(pki.ca), "-sess_in", str(sess))
    first, second = session_pair(a.port, pki, tmp_path, "1.2", resume_port=b.port)
    assert "Reused," in second, second


def test_broken_key_file_refused_keys_kept(sluice, pki, tmp_path):
    keys = tmp_path / "ticket.keys"
    keys.write_text(key_line())
    gw = gateway(sluice, pki, ticket_key_file=str(keys), reload_check_interval="1s")
    sess = tmp_path / "sess"
    s_client(gw.port, "-tls1_2", "-CAfile", str(pki.ca), "-sess_out", str(sess))
    keys.write_text("not base64 at all\n")
    gw.wait_log("event=tls_ticket_keys_refused")
    assert "Reused," in s_client(gw.port, "-tls1_2", "-CAfile", str(pki.ca), "-sess_in", str(sess))


def test_missing_key_file_is_a_startup_error(sluice, pki, tmp_path):
    gw = sluice.start(wait=False, **tls_tables([(*pki.rsa, [], {})], tls={"ticket_key_file": str(tmp_path / "nope")}))
    assert gw.proc.wait(timeout=10) != 0
    assert "ticket_key_file" in gw.log(), gw.log()
