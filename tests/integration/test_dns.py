"""[dns] in the real binary: each worker builds its c-ares resolver from it at
start (logged as event=dns), and check-config refuses bad values. The
resolver itself is tested against a real unbound in
filters/ares_resolver_test.cpp (sluice_unit_tests)."""
import smtplib
import subprocess

from conftest import BIN


def test_configured_servers_and_port_are_used_and_logged(sluice):
    gw = sluice.start(dns={"servers": ["127.0.0.1", "::1"], "port": 5353, "timeout": "1s", "tries": 3})
    line = next(l for l in gw.log().splitlines() if "event=dns" in l)
    assert "127.0.0.1:5353,[::1]:5353" in line, line
    assert "timeout_ms=1000" in line and "tries=3" in line, line
    # Sessions are unaffected by the resolver being there.
    with smtplib.SMTP("127.0.0.1", gw.port) as c:
        assert c.ehlo("client.test")[0] == 250


def test_default_servers_come_from_resolv_conf(sluice):
    gw = sluice.start()
    line = next(l for l in gw.log().splitlines() if "event=dns" in l)
    assert "servers=" in line and ":53" in line, line


def test_check_config_refuses_a_server_name(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[dns]\nservers = ["dns.example.net"]\ntries = 0\n')
    r = subprocess.run([BIN, "check-config", "--config", str(bad)], capture_output=True, text=True, timeout=15)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 2, r.stderr
    assert lines[0].startswith(f"{bad}:2:12: dns.servers[0]: \"dns.example.net\" is not an IP address"), lines[0]
    assert lines[1].startswith(f"{bad}:3:9: dns.tries"), lines[1]
