"""A real DNS server (Debian's unbound) on a loopback port, serving zones a
test writes: every filter test asks it, never a resolver of the machine.
The same set-up as filters/dns_test_server.hpp for the C++ tests."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

UNBOUND = "/usr/sbin/unbound"


def free_udp_port():
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def txt(name, text):
    """A TXT local-data line; long texts are split into 255-octet strings."""
    parts = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
    return f"{name} 300 IN TXT " + " ".join('"' + p.replace('"', '\\"') + '"' for p in parts)


class Unbound:
    """zones: names served from local data ("sender.test."); records: local-data
    lines; silent: zones whose queries are dropped without an answer."""

    def __init__(self, zones, records, silent=()):
        assert os.access(UNBOUND, os.X_OK), "unbound is missing: install Debian's unbound (scripts/install-deps.sh test)"
        self.dir = tempfile.mkdtemp(prefix="sluice-dns-")
        self.port = free_udp_port()
        lines = ["server:", "  interface: 127.0.0.1", f"  port: {self.port}", "  do-daemonize: no",
                 '  username: ""', '  chroot: ""', '  pidfile: ""', f'  directory: "{self.dir}"',
                 "  use-syslog: no", '  logfile: ""', "  verbosity: 1", "  num-threads: 1", "  do-ip6: no",
                 '  module-config: "iterator"', "  access-control: 127.0.0.0/8 allow",
                 '  local-zone: "test." refuse']
        lines += [f'  local-zone: "{z}" static' for z in zones]
        lines += [f'  local-zone: "{z}" deny' for z in silent]
        lines += [f"  local-data: '{r}'" for r in records]
        lines += ["remote-control:", "  control-enable: no"]
        conf = os.path.join(self.dir, "unbound.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log = open(os.path.join(self.dir, "unbound.log"), "w+")
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", conf], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            self.log.seek(0)
            if "start of service" in self.log.read():
                return
            assert self.proc.poll() is None, open(os.path.join(self.dir, "unbound.log")).read()
            time.sleep(0.025)
        raise AssertionError("unbound did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
