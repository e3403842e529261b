"""The command line: version, check-config, print-default-config, and the
start-up failures of `sluice run` (gateway/main.cpp, docs/configuration.md).

Problems are printed one per line as file:line:col: message, and a gateway
that cannot do what its config says (a bad file, a port taken) exits non-zero
saying which part failed, rather than running half-configured.
"""
import re
import signal
import socket
import subprocess
import time

from conftest import BIN, SLOW, Gateway, Raw, free_port, render_toml, spool_tmp_files, wait_until


def sluice_cmd(*args, cwd=None, timeout=15):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout * SLOW)


def config_tables(port, **extra):
    tables = {
        "workers": 1,
        "listener": [{"name": "smtp", "address": "127.0.0.1", "port": port}],
        "smtp": {"hostname": "mx.sluice.test", "local_domains": ["example.test"]},
        "spool": {"directory": "spool"},
        "metrics": {"port": free_port()},
    }
    tables.update(extra)
    return tables


def position(text, needle, offset=0):
    """1-based (line, column) of needle in text, plus offset columns."""
    for n, line in enumerate(text.splitlines(), 1):
        col = line.find(needle)
        if col >= 0:
            return n, col + 1 + offset
    raise AssertionError(f"{needle!r} not in {text!r}")


def test_version():
    r = sluice_cmd("version")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"sluice \S+\n", r.stdout), r.stdout


def test_usage_errors():
    assert sluice_cmd().returncode == 2
    r = sluice_cmd("frobnicate")
    assert r.returncode == 2 and "usage:" in r.stderr
    r = sluice_cmd("check-config")
    assert r.returncode == 2 and "--config" in r.stderr
    r = sluice_cmd("run", "--bogus")
    assert r.returncode == 2 and "--bogus" in r.stderr


def test_check_config_good_file(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(render_toml(config_tables(free_port(), limits={"max_recipients": 50})))
    r = sluice_cmd("check-config", "--config", good)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{good}: OK\n"
    assert r.stderr == ""
    # Checking touches nothing: no spool made in the working directory.
    r = sluice_cmd("check-config", "--config", good, cwd=tmp_path)
    assert r.returncode == 0 and not (tmp_path / "spool").exists()


def test_check_config_warns_of_an_export_directory_it_cannot_use(tmp_path):
    # A warning, not an error: the queue defers those recipients until the
    # directory is usable, so the config itself is fine.
    cfg = tmp_path / "routes.toml"
    (tmp_path / "a-file").write_text("x")
    cfg.write_text(render_toml(config_tables(
        free_port(),
        route=[{"name": "scan", "action": "queuefile", "directory": str(tmp_path / "missing")},
               {"name": "ok", "action": "queuefile", "directory": str(tmp_path)}],
        policy=[{"name": "spam", "phase": "data", "quarantine": str(tmp_path / "a-file")},
                # A policy name is free text: a quote or a line break in it
                # must not forge a second line or end the quoted name early.
                {"name": 'odd "name"\nfake: OK', "phase": "data", "quarantine": str(tmp_path / "a-file")}])))
    r = sluice_cmd("check-config", "--config", cfg)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{cfg}: OK\n"
    assert r.stderr.splitlines() == [
        f'{cfg}: warning: route "scan": directory "{tmp_path / "missing"}" does not exist '
        "(recipients sent there are deferred until it is usable)",
        f'{cfg}: warning: policy "spam" quarantine: directory "{tmp_path / "a-file"}" is not a directory '
        "(recipients sent there are deferred until it is usable)",
        f'{cfg}: warning: policy "odd \\x22name\\x22\\x0afake: OK" quarantine: directory "{tmp_path / "a-file"}" '
        "is not a directory (recipients sent there are deferred until it is usable)"]


def test_check_config_reports_every_problem_with_its_position(tmp_path):
    bad = tmp_path / "bad.toml"
    text = (
        "workers = 1\n"
        "\n"
        "[limits]\n"
        "max_recipent = 10\n"
        "\n"
        "[smtp]\n"
        'hostname = "mx.sluice.test"\n'
        'trusted_networks = ["127.0.0.0/8", "10.0.0.0/33"]\n'
    )
    bad.write_text(text)
    r = sluice_cmd("check-config", "--config", bad)
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 2, r.stderr
    line, col = position(text, "max_recipent")
    assert lines[0] == (f'{bad}:{line}:{col}: unknown key "max_recipent" in [limits] '
                        '(did you mean "max_recipients"?)')
    line, col = position(text, '"10.0.0.0/33"')
    assert lines[1].startswith(f'{bad}:{line}:{col}: smtp.trusted_networks[1]: "10.0.0.0/33" '), lines[1]


def test_check_config_unreadable_file(tmp_path):
    missing = tmp_path / "missing.toml"
    r = sluice_cmd("check-config", "--config", missing)
    assert r.returncode == 1
    # No position: "file: message".
    assert re.fullmatch(rf"{re.escape(str(missing))}: [^:\d].*\n", r.stderr), r.stderr


def test_print_default_config_loads_back(tmp_path):
    r = sluice_cmd("print-default-config")
    assert r.returncode == 0, r.stderr
    assert "[[listener]]" in r.stdout and "[limits]" in r.stdout
    path = tmp_path / "default.toml"
    path.write_text(r.stdout)
    r = sluice_cmd("check-config", "--config", path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{path}: OK\n"


def test_run_with_bad_config_exits_with_the_problem(tmp_path):
    port = free_port()
    bad = tmp_path / "bad.toml"
    text = render_toml(config_tables(port, limits={"max_recipients": "lots"}))
    bad.write_text(text)
    r = sluice_cmd("run", "--config", bad, cwd=tmp_path)
    assert r.returncode != 0
    line, col = position(text, "max_recipients")
    assert re.search(rf"^{re.escape(str(bad))}:{line}:\d+: limits\.max_recipients: expected an integer",
                     r.stderr, re.M), r.stderr
    assert "event=started" not in r.stdout + r.stderr
    assert not (tmp_path / "spool").exists()
    with socket.socket() as s:  # never listened: the port is still free
        s.bind(("127.0.0.1", port))


def test_run_with_port_in_use_names_the_listener(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = tmp_path / "sluice.toml"
        cfg.write_text(render_toml(config_tables(free_port(), listener=[
            {"name": "smtp", "address": "127.0.0.1", "port": free_port()},
            {"name": "submission-edge", "address": "127.0.0.1", "port": port}])))
        r = sluice_cmd("run", "--config", cfg, cwd=tmp_path)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert f"listener submission-edge on 127.0.0.1:{port}" in out, out
    assert "in use" in out
    assert "event=started" not in out


def test_second_instance_on_the_same_port_refuses_to_start(tmp_path):
    # Sluice's own sockets use SO_REUSEPORT (one per worker), which would let
    # a second Sluice of the same user bind the same port and silently take
    # a share of the connections. It must fail like any other port in use,
    # and before it touches the spool: the same config started twice shares
    # the spool, whose start-up recovery empties tmp/, where the first one
    # is writing.
    port = free_port()
    first = Gateway(tmp_path / "first", config_tables(port))
    first.start()
    try:
        writing = Raw(port)
        assert writing.read_reply()[0] == 220
        assert writing.cmd("EHLO c.test")[0] == 250
        assert writing.cmd("MAIL FROM:<a@src.test>")[0] == 250
        assert writing.cmd("RCPT TO:<b@example.test>")[0] == 250
        assert writing.cmd("DATA")[0] == 354
        writing.send("Subject: in flight\r\n\r\n" + ("y" * 998 + "\r\n") * 300)  # past the writer's buffer
        assert wait_until(lambda: spool_tmp_files(first)), "nothing written to spool/tmp"

        second_dir = tmp_path / "second"
        second_dir.mkdir()
        cfg = second_dir / "sluice.toml"
        cfg.write_text(render_toml(config_tables(port, spool={"directory": str(first.spool)})))
        p = subprocess.Popen([BIN, "run", "--config", cfg], cwd=second_dir, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = p.communicate(timeout=5 * SLOW)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            raise AssertionError(f"a second gateway started on port {port} in use by the first:\n{out}")
        assert p.returncode != 0
        assert f"listener smtp on 127.0.0.1:{port}" in out, out
        assert "in use" in out
        assert "spool_recovered" not in out

        # The first one is unharmed: its message in flight commits.
        assert first.proc.poll() is None
        code, lines = writing.cmd(".")
        assert code == 250, lines
        assert len(first.queued()) == 1
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            assert s.recv(100).startswith(b"220 mx.sluice.test")
    finally:
        assert first.stop() == 0


def test_renamed_listener_on_the_same_port_reloads(sluice):
    # A reload may rename a listener and keep its port: the port is already
    # ours, so it is no reason to refuse (the old socket closes after the new
    # one opens).
    gw = sluice.start()
    tables = dict(gw.tables)
    tables["listener"] = [dict(gw.tables["listener"][0], name="renamed")]
    gw.rewrite_config(tables)
    gw.signal(signal.SIGHUP)
    gw.wait_log("event=reloaded")
    assert "reload_refused" not in gw.log()
    gw.wait_log("event=listener_closed listener=smtp@")
    time.sleep(0.1)
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        assert s.recv(100).startswith(b"220 mx.sluice.test")
