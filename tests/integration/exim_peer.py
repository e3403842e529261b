"""A private Exim 4.96 (Debian's exim4-daemon-light) for tests: its own
configuration, spool, logs and mailboxes under one temporary directory, so
it never touches the system's Exim.

    exim = EximPeer.create()            # needs root and /usr/sbin/exim4
    exim.install_pair(src_dir, msg_id)  # copy an <id>-H/<id>-D pair into input/
    exim.queue()                        # `exim -bp`, parsed
    exim.header_file(msg_id)            # `exim -Mvh`
    exim.body_file(msg_id)              # `exim -Mvb`
    exim.deliver(msg_id)                # `exim -M` (or exim.queue_run(): -qff)
    exim.delivered(msg_id)              # the delivered message, bytes
    exim.cleanup()

How `-C` is made to work (docs/testing.md, "Exim under test"): Exim keeps
root privilege for an alternate configuration given with -C only when the
caller is root (or the Exim user with the file listed in
/etc/exim4/trusted_configs). Tests therefore run Exim as root with -C and
change nothing in /etc. The spool, log and mail directories belong to
Debian-exim, the user Exim works as and delivers as (root is a fixed
never_user in Debian's build, so local deliveries cannot run as root).
Delivery goes through an appendfile transport into one file per message,
<base>/mail/<id>, all recipients in one batch, with no mbox "From " line, so
the file is the message exactly as Exim would hand it on, plus the
Return-path: and Envelope-to: lines it adds.
"""
import grp
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

EXIM = os.environ.get("SLUICE_EXIM", "/usr/sbin/exim4")
EXIM_USER = "Debian-exim"

CONFIG = """\
# Written by tests/integration/exim_peer.py
primary_hostname = {hostname}
qualify_domain = {hostname}
spool_directory = {base}/spool
log_file_path = {base}/log/%slog
pid_file_path = {base}/exim.pid
exim_user = {user}
exim_group = {user}
keep_environment =
domainlist local_domains = *
# Deliver whatever is queued into files; no DNS, no retries to wait for.
begin routers
to_file:
  driver = accept
  transport = to_file

begin transports
to_file:
  driver = appendfile
  # One file per message, all its recipients in one delivery: a name made
  # from $local_part would be tainted, which Exim refuses for file names.
  file = {base}/mail/${{message_exim_id}}
  batch_max = 1000
  user = {user}
  group = {user}
  mode = 0640
  message_prefix =
  message_suffix =
  check_string =
  escape_string =
  return_path_add
  envelope_to_add

begin retry
*  *  F,1m,1m
"""


@dataclass
class QueueEntry:
    age: str
    size: str           # as Exim prints it: "177", "2.5K", "1.0M"
    id: str
    sender: str         # without the angle brackets; "" for <>
    frozen: bool
    recipients: list = field(default_factory=list)   # undelivered
    delivered: list = field(default_factory=list)    # listed with "D "

    def size_bytes(self):
        m = re.fullmatch(r"([\d.]+)([KMG]?)", self.size)
        return float(m.group(1)) * {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[m.group(2)]


def _require():
    if not os.path.exists(EXIM):
        raise RuntimeError(f"{EXIM} is missing: install exim4-daemon-light "
                           "(scripts/install-deps.sh test)")
    if os.geteuid() != 0:
        raise PermissionError("a private Exim with -C keeps its privileges only for root")
    pwd.getpwnam(EXIM_USER)


class EximPeer:
    def __init__(self, base: Path, hostname="gw.example"):
        self.base = base
        self.config = base / "exim.conf"
        uid, gid = pwd.getpwnam(EXIM_USER).pw_uid, grp.getgrnam(EXIM_USER).gr_gid
        self.uid, self.gid = uid, gid
        for sub in ("spool", "spool/input", "log", "mail"):
            (base / sub).mkdir(mode=0o750, exist_ok=True)
            os.chown(base / sub, uid, gid)
        # Owned by root and not writable by others, or Exim refuses it.
        self.config.write_text(CONFIG.format(base=base, hostname=hostname, user=EXIM_USER))
        os.chmod(self.config, 0o644)

    @classmethod
    def create(cls, hostname="gw.example"):
        _require()
        # Not under pytest's tmp_path: that is 0700 root, and Exim delivers
        # as Debian-exim, which must reach <base>/mail.
        base = Path(tempfile.mkdtemp(prefix="sluice-exim-"))
        os.chmod(base, 0o755)
        return cls(base, hostname)

    def cleanup(self):
        shutil.rmtree(self.base, ignore_errors=True)

    @property
    def input_dir(self):
        return self.base / "spool" / "input"

    def run(self, *args, check=True, text=True):
        p = subprocess.run([EXIM, "-C", str(self.config), *args], capture_output=True, text=text, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"exim {' '.join(args)} failed ({p.returncode}): {p.stderr}{p.stdout}")
        return p

    def install_pair(self, src_dir, msg_id):
        """Copies <id>-D then <id>-H (the -H last: it makes the message exist)."""
        for suffix in ("-D", "-H"):
            dst = self.input_dir / (msg_id + suffix)
            shutil.copyfile(Path(src_dir) / (msg_id + suffix), dst)
            os.chown(dst, self.uid, self.gid)
            os.chmod(dst, 0o640)

    def queue(self):
        """`exim -bp` parsed into QueueEntry objects."""
        entries = []
        head = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s+<(.*?)>( \*\*\* frozen \*\*\*)?\s*$")
        for line in self.run("-bp").stdout.splitlines():
            m = head.match(line)
            if m and not line.startswith("          "):
                entries.append(QueueEntry(m.group(1), m.group(2), m.group(3), m.group(4), bool(m.group(5))))
            elif line.strip() and entries:
                r = line.strip()
                if r.startswith("D "):
                    entries[-1].delivered.append(r[2:])
                else:
                    entries[-1].recipients.append(r)
        return entries

    def queue_count(self):
        return int(self.run("-bpc").stdout.strip())

    def header_file(self, msg_id):
        return self.run("-Mvh", msg_id, text=False).stdout

    def body_file(self, msg_id):
        return self.run("-Mvb", msg_id, text=False).stdout

    def deliver(self, msg_id):
        return self.run("-M", msg_id)

    def queue_run(self):
        return self.run("-qff")

    def delivered(self, msg_id):
        p = self.base / "mail" / msg_id
        return p.read_bytes() if p.exists() else None

    def mainlog(self):
        p = self.base / "log" / "mainlog"
        return p.read_text(errors="replace") if p.exists() else ""

    def paniclog(self):
        p = self.base / "log" / "paniclog"
        return p.read_text(errors="replace") if p.exists() else ""


def exim_fixture():
    """Body of the tests' `exim` fixture: a private Exim, or a skip saying why
    there cannot be one (not root)."""
    import pytest
    try:
        peer = EximPeer.create()
    except PermissionError as e:
        pytest.skip(str(e))
    try:
        yield peer
    finally:
        peer.cleanup()
