"""LMDB lookups in domain and host lists (docs/configuration.md, "Lookup
files"; docs/storage.md, "LMDB lookups"): `lmdb;/path` items built with the
real mdb_load (lmdb-utils), read by the running gateway, replaced atomically
while it runs, removed (451 4.3.0 and a log line, never 5xx) and brought
back; and check-config refusing a missing or corrupt file with its position.
"""
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import BIN, free_port, greet, render_toml, wait_until

RECHECK = 1  # seconds; lookups.recheck_interval in these tests


def need_mdb_load():
    if not shutil.which("mdb_load"):
        pytest.fail("mdb_load not found: install lmdb-utils (scripts/install-deps.sh build)")


def build(path, pairs):
    """Builds `path` beside itself and renames it into place, as an operator should."""
    need_mdb_load()
    tmp = f"{path}.new"
    text = "".join(f"{k}\n{v}\n" for k, v in pairs.items())
    subprocess.run(["mdb_load", "-n", "-T", "-f", "/dev/stdin", tmp], input=text.encode(), check=True)
    if os.path.exists(tmp + "-lock"):
        os.remove(tmp + "-lock")
    os.rename(tmp, path)


def rcpt_code(gw, address):
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    code, lines = r.cmd(f"RCPT TO:<{address}>")
    r.close()
    return code, lines[-1]


def eventually(gw, address, code):
    """The answer changes within a recheck interval or so: poll new sessions."""
    got = wait_until(lambda: rcpt_code(gw, address)[0] == code, timeout=RECHECK * 5, interval=0.1)
    assert got, f"RCPT {address}: still {rcpt_code(gw, address)}, wanted {code}"


def test_domain_lists_from_lmdb_files_follow_replacement_and_removal(sluice, tmp_path):
    local, relay = tmp_path / "local.mdb", tmp_path / "relay.mdb"
    build(local, {"lmdb-local.test": ""})
    build(relay, {"partner.test": "smtp:[192.0.2.25]"})
    gw = sluice.start(lookups={"recheck_interval": RECHECK},
                      smtp={"local_domains": ["example.test", f"lmdb;{local}"],
                            "relay_domains": [f"lmdb;{relay}"]})
    r = greet(gw.port)
    r.expect("MAIL FROM:<a@sender.test>", 250)
    r.expect("RCPT TO:<bob@lmdb-local.test>", 250, "2.1.5")
    r.expect("RCPT TO:<bob@LMDB-Local.Test>", 250, "2.1.5")   # keys are looked up lower-cased
    r.expect("RCPT TO:<x@partner.test>", 250, "2.1.5")
    r.expect("RCPT TO:<x@sub.partner.test>", 550, "5.7.1")    # exact keys
    r.expect("RCPT TO:<x@stranger.test>", 550, "5.7.1")
    r.expect("RCPT TO:<bob@example.test>", 250, "2.1.5")
    r.expect("DATA", 354)
    assert r.cmd(".")[0] == 250
    r.close()
    (env, _), = gw.queued().values()
    assert [x["address"] for x in env["recipients"]] == [
        "bob@lmdb-local.test", "bob@lmdb-local.test", "x@partner.test", "bob@example.test"]

    # Replaced by rename while running: the new file answers.
    build(relay, {"newpartner.test": ""})
    eventually(gw, "x@newpartner.test", 250)
    assert rcpt_code(gw, "x@partner.test")[0] == 550

    # Removed: a temporary failure naming nothing private to the client, and a
    # log line naming the file; literal domains keep working.
    os.remove(relay)
    eventually(gw, "x@newpartner.test", 451)
    code, last = rcpt_code(gw, "x@newpartner.test")
    assert code == 451 and last.startswith("451 4.3.0 "), last
    assert str(relay) not in last
    assert rcpt_code(gw, "bob@example.test")[0] == 250
    assert rcpt_code(gw, "bob@lmdb-local.test")[0] == 250
    gw.wait_log("event=lookup_defer")
    assert re.search(rf"event=lookup_defer .*list=smtp\.relay_domains item=lmdb;{re.escape(str(relay))} "
                     rf"key=newpartner\.test error=\"cannot open: No such file or directory\"", gw.log()), gw.log()[-2000:]
    assert not re.search(r"RCPT.*newpartner.*\b5\d\d\b", gw.log())

    # Back: works again, with no reload.
    build(relay, {"newpartner.test": ""})
    eventually(gw, "x@newpartner.test", 250)

    # Corrupt in place of the file: defer too, then recovery.
    bad = tmp_path / "garbage"
    bad.write_bytes(b"x" * 16384)
    os.rename(bad, relay)
    eventually(gw, "x@newpartner.test", 451)
    assert "not a usable LMDB file" in gw.log()
    build(relay, {"newpartner.test": ""})
    eventually(gw, "x@newpartner.test", 250)


def test_trusted_networks_from_an_lmdb_file(sluice, tmp_path):
    hosts = tmp_path / "trusted.mdb"
    build(hosts, {"127.0.0.1": "relay host"})
    gw = sluice.start(lookups={"recheck_interval": RECHECK},
                      smtp={"trusted_networks": ["10.0.0.0/8", f"lmdb;{hosts}"]})
    assert rcpt_code(gw, "someone@elsewhere.test")[0] == 250   # trusted: may relay

    build(hosts, {"192.0.2.1": ""})                            # no longer listed
    eventually(gw, "someone@elsewhere.test", 550)

    build(hosts, {"127.0.0.1": ""})
    eventually(gw, "someone@elsewhere.test", 250)
    os.remove(hosts)                                           # cannot answer: not trusted
    eventually(gw, "someone@elsewhere.test", 550)
    gw.wait_log("list=smtp.trusted_networks")
    assert re.search(r"event=lookup_defer .*list=smtp\.trusted_networks .*key=127\.0\.0\.1 .*effect=\"not granted\"",
                     gw.log()), gw.log()[-2000:]
    assert rcpt_code(gw, "bob@example.test")[0] == 250          # local mail is still fine


def write_config(tmp_path, smtp):
    cfg = tmp_path / "sluice.toml"
    cfg.write_text(render_toml({
        "listener": [{"name": "smtp", "address": "127.0.0.1", "port": free_port()}],
        "smtp": {"hostname": "mx.sluice.test", **smtp},
        "spool": {"directory": str(tmp_path / "spool")},
    }))
    return cfg


def line_of(text, needle):
    return next(i for i, l in enumerate(text.splitlines(), 1) if needle in l)


def test_check_config_refuses_missing_and_corrupt_lookup_files(tmp_path):
    missing = tmp_path / "missing.mdb"
    corrupt = tmp_path / "corrupt.mdb"
    corrupt.write_bytes(b"\0" * 8192)
    cfg = write_config(tmp_path, {"relay_domains": ["partner.test", f"lmdb;{missing}"],
                                  "trusted_networks": [f"lmdb;{corrupt}"]})
    text = cfg.read_text()
    r = subprocess.run([BIN, "check-config", "--config", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 1, r
    lines = r.stderr.splitlines()
    assert len(lines) == 2, r.stderr
    assert re.fullmatch(rf"{re.escape(str(cfg))}:{line_of(text, 'relay_domains')}:\d+: smtp\.relay_domains\[1\]: "
                        rf"lmdb file {re.escape(str(missing))}: cannot open: No such file or directory", lines[0]), lines
    assert re.fullmatch(rf"{re.escape(str(cfg))}:{line_of(text, 'trusted_networks')}:\d+: smtp\.trusted_networks\[0\]: "
                        rf"lmdb file {re.escape(str(corrupt))}: not a usable LMDB file: .*", lines[1]), lines

    # `run` refuses the same file the same way, before binding anything.
    r = subprocess.run([BIN, "run", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "missing.mdb: cannot open" in r.stderr, r

    # With the file built, the same config is fine.
    build(missing, {"partner2.test": ""})
    build(corrupt, {"127.0.0.1": ""})
    r = subprocess.run([BIN, "check-config", "--config", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == f"{cfg}: OK\n", r


def test_sighup_with_a_missing_lookup_file_keeps_the_old_config(sluice, tmp_path):
    relay = tmp_path / "relay.mdb"
    gw = sluice.start(smtp={"relay_domains": ["partner.test"]})
    tables = dict(gw.tables)
    tables["smtp"] = {**tables["smtp"], "relay_domains": [f"lmdb;{relay}"]}
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reload_refused")
    assert "smtp.relay_domains[0]: lmdb file" in gw.log()
    assert rcpt_code(gw, "x@partner.test")[0] == 250            # the old list

    build(relay, {"fromfile.test": ""})
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded")
    assert rcpt_code(gw, "x@fromfile.test")[0] == 250
    assert rcpt_code(gw, "x@partner.test")[0] == 550
