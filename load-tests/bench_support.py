"""bench_support.py — what the Python benchmark scripts of load-tests/ share:
where the binaries and the peers are, the Sluice config a benchmark starts,
a free loopback port, waiting for a server's banner, and the CPU time of a
process tree (a server of many processes, as Postfix is, counts whole)."""
import os
import socket
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUICE_BIN = Path(os.environ.get("SLUICE_BIN", ROOT / "build" / "sluice"))
LOADGEN = Path(os.environ.get("LOADGEN", ROOT / "build" / "load-tests" / "loadgen" / "sluice-loadgen"))
# ../shared beside the checkout (/work/main -> /work/shared), or beside its
# parent for a worktree (/work/wt/NAME -> /work/shared).
SHARED_PEERS = Path(os.environ.get("SHARED_PEERS") or next(
    (p for p in (ROOT.parent / "shared" / "peers", ROOT.parent.parent / "shared" / "peers") if p.is_dir()),
    ROOT.parent / "shared" / "peers"))


def sluice_toml(port, *, workers=0, log_level="info", name="bench", listener="", tables=""):
    """A Sluice config with one listener on 127.0.0.1:port and no metrics endpoint.
    `listener`: more lines for the listener's table (e.g. 'tls = "starttls"');
    `tables`: more tables after it ([spool], [limits], [tls], ...)."""
    text = (f'workers = {workers}\n[log]\nlevel = "{log_level}"\n'
            f'[[listener]]\nname = "{name}"\naddress = "127.0.0.1"\nport = {port}\n')
    if listener:
        text += listener.rstrip("\n") + "\n"
    return text + "[metrics]\nenabled = false\n" + tables


def durable_discard_spool(directory, map_size="16G"):
    """The durable spool as a queueing peer pays for it: LMDB, fsync'd before
    the 250, then every message routed to discard and purged after a minute."""
    return (f'[spool]\nkind = "lmdb"\ndirectory = "{directory}"\nmap_size = "{map_size}"\n'
            '[queue]\nkeep_done = "1m"\n[[route]]\nname = "drop"\naction = "discard"\n')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_banner(port, timeout=20):
    """True once 127.0.0.1:port answers with a 220 banner (then QUIT), False after timeout seconds."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def tree_cpu_s(pid):
    """CPU seconds (utime + stime, with reaped children's) of pid and every descendant alive now."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                s = (d / "stat").read_text()
                parent[int(d.name)] = int(s.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    keep, changed = {pid}, True
    while changed:
        changed = False
        for p, pp in parent.items():
            if pp in keep and p not in keep:
                keep.add(p)
                changed = True
    ticks = 0
    for p in keep:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(x) for x in f[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")
