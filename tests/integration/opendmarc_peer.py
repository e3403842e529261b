"""OpenDMARC's importer, the program that reads a DMARC history file, and its
aggregate-report writer, against a real MariaDB server on loopback
(docs/filters.md, "History file").

- opendmarc-import and OpenDMARC's database schema come from Debian's
  opendmarc package, unpacked with dpkg -x by `scripts/install-deps.sh test`
  into /opt/sluice-peers/opendmarc (installing it would start its milter).
  Their Perl modules (DBI, DBD::mysql, Switch, JSON, HTTP::Message) are
  Debian packages.
- The server is mariadb-server-core's mariadbd, a throwaway instance in the
  test's directory, listening on 127.0.0.1 only, with the schema loaded as
  Debian's dbconfig would load it.
"""
import os
import shutil
import subprocess
from pathlib import Path

from conftest import free_port, wait_port

PEERS = Path(os.environ.get("SLUICE_PEERS_OPT", "/opt/sluice-peers"))
OPENDMARC = PEERS / "opendmarc"
IMPORT = OPENDMARC / "usr/sbin/opendmarc-import"
REPORTS = OPENDMARC / "usr/sbin/opendmarc-reports"
SCHEMA = OPENDMARC / "usr/share/dbconfig-common/data/opendmarc/install/mysql"
INSTALL_HINT = "run scripts/install-deps.sh test (opendmarc unpacked, mariadb-server-core, mariadb-client-core)"


def program(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    assert path, f"{name} is missing: {INSTALL_HINT}"
    return path


class OpenDmarcDatabase:
    """A MariaDB server holding OpenDMARC's schema, and its importer."""

    def __init__(self, directory):
        assert IMPORT.exists() and SCHEMA.exists(), f"{IMPORT} or its schema is missing: {INSTALL_HINT}"
        self.dir = Path(directory)
        data = self.dir / "data"
        data.mkdir(parents=True)
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run([program("mariadb-install-db"), "--no-defaults", f"--datadir={data}", *as_root,
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        self.port = free_port()
        self.log = open(self.dir / "mariadbd.log", "wb")
        self.proc = subprocess.Popen(
            [program("mariadbd"), "--no-defaults", f"--datadir={data}", *as_root, f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.dir / 'mariadbd.sock'}",
             f"--pid-file={self.dir / 'mariadbd.pid'}", "--skip-log-bin", "--innodb-buffer-pool-size=16M"],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, timeout=60)
            self.sql("CREATE DATABASE opendmarc; CREATE USER 'opendmarc'@'%' IDENTIFIED BY 'opendmarc'; "
                     "GRANT ALL ON opendmarc.* TO 'opendmarc'@'%';")
            self.sql(SCHEMA.read_text(), database="opendmarc")
        except BaseException:
            self.stop()  # no server left behind by a failed start
            raise

    def sql(self, statements, database=None):
        """Runs SQL as root; the rows of the last statement, each a list of strings."""
        argv = [program("mariadb"), "--no-defaults", "-h127.0.0.1", f"-P{self.port}", "-uroot", "--batch",
                "--skip-column-names", *([database] if database else [])]
        r = subprocess.run(argv, input=statements, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return [line.split("\t") for line in r.stdout.splitlines()]

    def import_history(self, path):
        """opendmarc-import < path, as its cron job runs it; (exit code, stderr)."""
        with open(path, "rb") as f:
            r = subprocess.run(["perl", str(IMPORT), "--dbhost=127.0.0.1", f"--dbport={self.port}", "--verbose"],
                               stdin=f, capture_output=True, text=True, timeout=120)
        return r.returncode, r.stderr

    def aggregate_reports(self, directory, smtp_port):
        """opendmarc-reports --test: writes each domain's aggregate report (RFC 7489
        appendix C XML) into `directory` instead of mailing it; it still greets the
        SMTP server at `smtp_port` first. The paths of the reports, and stderr."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["perl", str(REPORTS), "--dbhost=127.0.0.1", f"--dbport={self.port}", "--test",
                            "--verbose", "--smtp-server=127.0.0.1", f"--smtp-port={smtp_port}",
                            "--report-email=dmarc-reports@mx.sluice.test", "--report-org=sluice.test"],
                           cwd=directory, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return sorted(directory.glob("*.xml")), r.stderr

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
