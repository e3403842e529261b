"""The deployment files under deploy/ agree with each other and with Sluice.

No container engine or Kubernetes cluster runs here, so these checks are
static, plus what can run on this machine: every YAML file parses and has the
expected kinds; the ports, probe paths and mount paths of the Dockerfile,
compose file and manifests match the Sluice config each of them ships
(parsed with tomllib); those configs pass `sluice check-config`; the HAProxy
example passes `haproxy -c`; the runtime image's package list covers every
shared library the binary links; the HEALTHCHECK script works against a real
HTTP server; the Grafana dashboard names only metric families and label
values that a running Sluice exports.
"""
import fnmatch
import http.server
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
import time
import tomllib
import warnings
from pathlib import Path

import pytest
import yaml

from conftest import BIN, ROOT, SLOW, free_port, wait_port

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

# The families the dashboard shows (docs/deploy.md, "Grafana"): each has a
# panel, and each must be in a real scrape of Sluice (checked below).
DASHBOARD_FAMILIES = {
    "sluice_connections_open", "sluice_connections_accepted_total",
    "sluice_sessions_rejected_total", "sluice_messages_total", "sluice_received_bytes_total",
    "sluice_spool_commit_seconds", "sluice_spool_messages_per_commit",
    "sluice_queue_messages", "process_resident_memory_bytes", "process_open_fds",
    "process_cpu_seconds_total",
}
# Shared libraries debian:12-slim already has.
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}
# Linked only by the sanitizer build (SLUICE_SANITIZED=1), never shipped.
SANITIZER_PACKAGE = re.compile(r"lib(asan|ubsan|lsan|tsan)\d+")


# ---------------------------------------------------------------------------
# Readers


def seconds(duration):
    """A Sluice duration (docs/configuration.md) or a compose one ("35s") in seconds."""
    if isinstance(duration, int):
        return duration
    m = re.fullmatch(r"(\d+)([smh])", duration)
    assert m, f"not a duration: {duration!r}"
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def manifests():
    """Every Kubernetes object in deploy/kubernetes: {(kind, name): object}."""
    out = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for d in docs(path):
            key = (d["kind"], d["metadata"]["name"])
            assert key not in out, f"{key} defined twice"
            out[key] = d
    return out


def k8s_sluice_config():
    cm = manifests()[("ConfigMap", "sluice-config")]
    return cm["data"]["sluice.toml"]


def haproxy_cfg():
    return manifests()[("ConfigMap", "haproxy-smtp")]["data"]["haproxy.cfg"]


def dockerfile():
    """deploy/Dockerfile as [(stage index, INSTRUCTION, argument text)]."""
    lines, cur = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        if not cur and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if cur and raw.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if raw.endswith("\\"):
            cur += raw[:-1] + " "
            continue
        lines.append(cur + raw)
        cur = ""
    assert not cur, "Dockerfile ends inside a continued line"
    out, stage = [], -1
    for line in lines:
        instr, _, arg = line.strip().partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            stage += 1
        out.append((stage, instr, arg.strip()))
    return out


def exec_form(arg):
    """The argument of CMD/ENTRYPOINT/VOLUME in JSON form, else split like a shell."""
    return json.loads(arg) if arg.startswith("[") else shlex.split(arg)


def final_stage(instrs):
    last = max(s for s, _, _ in instrs)
    return [(i, a) for s, i, a in instrs if s == last]


def pod_template():
    return manifests()[("StatefulSet", "sluice")]["spec"]["template"]


def sluice_container():
    (c,) = [c for c in pod_template()["spec"]["containers"] if c["name"] == "sluice"]
    return c


# ---------------------------------------------------------------------------
# sluice check-config on shipped configs


def run_check_config(text, path):
    path.write_text(text)
    return subprocess.run([BIN, "check-config", "--config", str(path)],
                          capture_output=True, text=True, timeout=30)


def binary_knows_metrics(tmp_path):
    r = run_check_config("[metrics]\nenabled = false\n", tmp_path / "probe-metrics.toml")
    return r.returncode == 0


def without_table(text, table):
    """The TOML text minus [table] and its keys (up to the next table header)."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("["):
            skipping = stripped == f"[{table}]"
        if not skipping:
            out.append(line)
    return "".join(out)


def assert_check_config_ok(text, tmp_path, name):
    assert os.access(BIN, os.X_OK), f"no sluice binary at {BIN} (build first)"
    r = run_check_config(text, tmp_path / name)
    if r.returncode != 0 and "metrics" in tomllib.loads(text) and not binary_knows_metrics(tmp_path):
        # Before the metrics issue is merged the binary refuses [metrics]:
        # check everything else, and say that part was not checked.
        warnings.warn(f"{name}: this sluice does not know [metrics] yet; checked without it")
        r = run_check_config(without_table(text, "metrics"), tmp_path / name)
    assert r.returncode == 0, f"{name}: sluice check-config failed:\n{r.stderr}"
    assert r.stdout.strip().endswith(": OK"), r.stdout


def test_container_config_passes_check_config(tmp_path):
    assert_check_config_ok((DEPLOY / "sluice.container.toml").read_text(), tmp_path, "container.toml")


def test_configmap_config_passes_check_config(tmp_path):
    assert_check_config_ok(k8s_sluice_config(), tmp_path, "configmap.toml")


def test_without_table_removes_only_that_table():
    text = '[log]\nlevel = "info"\n\n[metrics]\nenabled = true\nport = 9125\n\n[spool]\ndirectory = "x"\n'
    assert tomllib.loads(without_table(text, "metrics")) == {"log": {"level": "info"}, "spool": {"directory": "x"}}


# ---------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_stages():
    instrs = dockerfile()
    froms = [a for _, i, a in instrs if i == "FROM"]
    assert len(froms) == 2, froms
    assert all(f.split()[0] == "debian:12-slim" for f in froms), froms
    names = {f.split()[2] for f in froms if len(f.split()) == 3 and f.split()[1].upper() == "AS"}
    assert "build" in names, froms
    # The build stage builds with the project's own dependency script and cmake.
    build = " ".join(a for s, i, a in instrs if s == 0 and i == "RUN")
    assert "scripts/install-deps.sh build" in build
    assert "cmake -S" in build and "cmake --build" in build
    # The runtime stage takes only the binary from the build stage, and has no
    # toolchain of its own.
    runtime = final_stage(instrs)
    from_build = [a for i, a in runtime if i == "COPY" and a.startswith("--from=")]
    assert from_build and all(a.split()[0] == "--from=build" for a in from_build)
    runtime_run = " ".join(a for i, a in runtime if i == "RUN")
    for tool in ("install-deps.sh", "cmake", "build-essential", "-dev ", "curl", "wget"):
        assert tool not in runtime_run, tool


def test_dockerfile_runs_as_the_unprivileged_user():
    runtime = final_stage(dockerfile())
    users = [a for i, a in runtime if i == "USER"]
    assert users, "no USER in the runtime stage"
    uid, _, gid = users[-1].partition(":")
    assert uid not in ("root", "0") and gid not in ("root", "0"), users[-1]
    # The user the image creates, and the one Kubernetes runs it as.
    run = " ".join(a for i, a in runtime if i == "RUN")
    assert re.search(rf"useradd .*--uid {uid}\b", run), run
    sec = pod_template()["spec"]["securityContext"]
    assert sec["runAsNonRoot"] is True
    assert str(sec["runAsUser"]) == uid and str(sec["fsGroup"]) == (gid or uid)


def test_dockerfile_agrees_with_the_container_config():
    cfg = tomllib.loads((DEPLOY / "sluice.container.toml").read_text())
    runtime = final_stage(dockerfile())
    one = lambda name: [a for i, a in runtime if i == name][-1]

    exposed = {int(p.split("/")[0]) for a in [a for i, a in runtime if i == "EXPOSE"] for p in a.split()}
    assert exposed == {l["port"] for l in cfg["listener"]} | {cfg["metrics"]["port"]}
    assert cfg["metrics"]["enabled"] is True
    assert all(l["address"] == "0.0.0.0" for l in cfg["listener"]) and cfg["metrics"]["address"] == "0.0.0.0"

    assert exec_form(one("VOLUME")) == [cfg["spool"]["directory"]]
    assert one("STOPSIGNAL") == "SIGTERM"

    health = one("HEALTHCHECK")
    assert "--timeout=" in health and "--interval=" in health
    cmd = exec_form(health.split(" CMD ", 1)[1])
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)(/\S*)", cmd[-1])
    assert m, cmd
    assert int(m.group(1)) == cfg["metrics"]["port"] and m.group(2) == "/healthz"
    # The checker is copied in from the repository, and is what the CMD runs.
    copies = {a.split()[-1]: a.split()[-2] for i, a in runtime if i == "COPY" and not a.startswith("--")}
    assert copies[cmd[0]] == "deploy/healthcheck.sh"

    # The config the CMD names is the container config.
    argv = exec_form(one("ENTRYPOINT")) + exec_form(one("CMD"))
    assert argv[1] == "run"
    config_path = argv[argv.index("--config") + 1]
    assert copies[config_path] == "deploy/sluice.container.toml"
    assert argv[0] == [a.split()[-1] for i, a in runtime if i == "COPY" and a.startswith("--from=")][0]


def dockerignore_patterns():
    return [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines()
            if l.strip() and not l.startswith("#")]


def ignored(path, patterns):
    parts = Path(path).parts
    for pat in patterns:
        pat = pat.removeprefix("**/")
        for i in range(len(parts)):
            if fnmatch.fnmatch(str(Path(*parts[: i + 1])), pat) or fnmatch.fnmatch(parts[i], pat):
                return True
    return False


def test_dockerfile_copy_sources_exist_in_the_build_context():
    patterns = dockerignore_patterns()
    sources = []
    for _, instr, arg in dockerfile():
        if instr in ("COPY", "ADD") and not arg.startswith("--from="):
            sources += [s for s in arg.split()[:-1] if not s.startswith("--")]
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), f"COPY source {src} does not exist"
        assert src == "." or not ignored(src, patterns), f"COPY source {src} is excluded by .dockerignore"
    # The context holds the sources the build needs, not the build trees.
    for needed in ("CMakeLists.txt", "gateway/main.cpp", "scripts/install-deps.sh", "deploy/sluice.container.toml"):
        assert not ignored(needed, patterns), needed
    for junk in ("build", "build-asan", ".git", "var"):
        assert ignored(junk, patterns), junk


def apt_packages(run_text):
    m = re.search(r"apt-get install\s+(.*?)(&&|$)", run_text)
    assert m, run_text
    return {w for w in m.group(1).split() if not w.startswith("-")}


def test_runtime_packages_cover_the_binarys_shared_libraries():
    assert os.access(BIN, os.X_OK), f"no sluice binary at {BIN} (build first)"
    runtime_run = " ".join(a for i, a in final_stage(dockerfile()) if i == "RUN")
    have = apt_packages(runtime_run) | BASE_IMAGE_PACKAGES
    ldd = subprocess.run(["ldd", BIN], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"=> (/\S+)", ldd)
    assert libs, ldd
    needed = {}
    for lib in libs:
        # usrmerge: dpkg knows /usr/lib/..., ldd may print /lib/...
        for candidate in (lib, "/usr" + lib, os.path.realpath(lib)):
            r = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
            if r.returncode == 0:
                needed[lib] = r.stdout.split(":")[0]
                break
        else:
            pytest.fail(f"{lib}: no Debian package owns it (built against a library outside Debian?)")
    missing = {lib: pkg for lib, pkg in needed.items()
               if pkg not in have and not SANITIZER_PACKAGE.fullmatch(pkg)}
    assert not missing, f"the runtime stage lacks packages for {missing}"


# ---------------------------------------------------------------------------
# The HEALTHCHECK script, against a real HTTP server


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = {"/healthz": 200, "/readyz": 503}.get(self.path, 404)
        body = b"ok\n" if code == 200 else b"no\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def healthcheck(url):
    return subprocess.run(["bash", str(DEPLOY / "healthcheck.sh"), url],
                          capture_output=True, text=True, timeout=20)


def test_healthcheck_script_reads_the_status():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        assert healthcheck(f"http://127.0.0.1:{port}/healthz").returncode == 0
        r = healthcheck(f"http://127.0.0.1:{port}/readyz")
        assert r.returncode == 1 and "503" in r.stderr
        assert healthcheck(f"http://127.0.0.1:{port}/nothing").returncode == 1
    finally:
        server.shutdown()
        server.server_close()
    assert healthcheck(f"http://127.0.0.1:{free_port()}/healthz").returncode == 1  # nobody there
    assert healthcheck("https://127.0.0.1/healthz").returncode == 2


def test_container_config_serves_healthz(tmp_path):
    """The runtime stage's start, on this machine: the baked-in config (ports
    moved to free ones, spool in tmp) starts, and the HEALTHCHECK passes."""
    if not binary_knows_metrics(tmp_path):
        pytest.skip("this sluice has no [metrics] listener yet (metrics issue not merged)")
    cfg = (DEPLOY / "sluice.container.toml").read_text()
    smtp, metrics = free_port(), free_port()
    cfg = re.sub(r"(?m)^port = 2525$", f"port = {smtp}", cfg)
    cfg = re.sub(r"(?m)^port = 9125$", f"port = {metrics}", cfg)
    cfg = cfg.replace('"0.0.0.0"', '"127.0.0.1"').replace("/var/spool/sluice", str(tmp_path / "spool"))
    path = tmp_path / "sluice.toml"
    path.write_text(cfg)
    with open(tmp_path / "sluice.log", "wb") as log:
        proc = subprocess.Popen([BIN, "run", "--config", str(path)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(metrics, timeout=15)
        deadline = time.time() + 10 * SLOW
        while healthcheck(f"http://127.0.0.1:{metrics}/healthz").returncode != 0:
            assert time.time() < deadline, (tmp_path / "sluice.log").read_text()[-3000:]
            time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", smtp), timeout=10) as s:
            assert s.recv(512).startswith(b"220 ")
    finally:
        proc.terminate()
        assert proc.wait(timeout=40) == 0


# ---------------------------------------------------------------------------
# Compose and Prometheus


def test_compose_agrees_with_the_image_and_config():
    compose = docs(DEPLOY / "compose.yaml")[0]
    cfg = tomllib.loads((DEPLOY / "sluice.container.toml").read_text())
    svc = compose["services"]["sluice"]
    assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / svc["build"]["context"]).resolve() == ROOT
    container_ports = {int(p.split(":")[-1]) for p in svc["ports"]}
    assert container_ports == {l["port"] for l in cfg["listener"]} | {cfg["metrics"]["port"]}
    targets = {v.split(":")[1] for v in svc["volumes"]}
    assert cfg["spool"]["directory"] in targets
    assert seconds(svc["stop_grace_period"]) > seconds(cfg["timeouts"]["drain"])

    prom = compose["services"]["prometheus"]
    mounts = dict(v.split(":")[:2] for v in prom["volumes"] if v.startswith("./"))
    for src in mounts:
        assert (DEPLOY / src).exists(), src
    mounted = {dst: src for src, dst in mounts.items()}
    (config_file,) = [c.split("=", 1)[1] for c in prom["command"] if c.startswith("--config.file=")]
    assert mounted[config_file] == "./prometheus.yml"

    scrape = docs(DEPLOY / "prometheus.yml")[0]
    # Rule files are read relative to the config file: each must be mounted there.
    config_dir = config_file.rsplit("/", 1)[0]
    for rules in scrape["rule_files"]:
        assert mounted[f"{config_dir}/{rules}"] == f"./{rules}", rules
    (job,) = scrape["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    (target,) = job["static_configs"][0]["targets"]
    assert target == f"sluice:{cfg['metrics']['port']}"


def test_prometheus_config_and_alert_rules_pass_promtool():
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: install Debian's prometheus package (scripts/install-deps.sh test)"
    for argv in (["check", "config", "prometheus.yml"], ["check", "rules", "prometheus-rules.yml"],
                 ["test", "rules", "prometheus-rules.test.yml"]):
        r = subprocess.run([promtool, *argv], cwd=DEPLOY, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
    # The Kubernetes PrometheusRule carries the same groups.
    rule = docs(K8S / "prometheusrule.yaml")[0]
    assert rule["spec"]["groups"] == docs(DEPLOY / "prometheus-rules.yml")[0]["groups"]


def test_alert_rules_match_what_sluice_exports(sluice, tmp_path):
    # A Sluice with a certificate and an OCSP response, so that the TLS
    # gauges the rules read have samples to compare with.
    from tls_support import Pki, tls_tables
    pki = Pki(tmp_path / "pki")
    cert, key = pki.leaf("mx.sluice.test", "rsa")
    chain = pki.fullchain(cert, tmp_path / "chain.pem")
    ocsp = pki.ocsp_response(cert, tmp_path / "mx.ocsp", days=1)
    exported = exported_samples(sluice, **tls_tables([(chain, key, [], {"ocsp": str(ocsp)})]))
    rules = [r for g in docs(DEPLOY / "prometheus-rules.yml")[0]["groups"] for r in g["rules"]]
    series = [s["series"] for t in docs(DEPLOY / "prometheus-rules.test.yml")[0]["tests"] for s in t["input_series"]]
    for rule in rules:
        selectors = re.findall(r"\b(sluice_[a-z_]+)(?:\{([^}]*)\})?", rule["expr"])
        assert selectors, rule["expr"]
        for family, matchers in selectors:
            assert family in exported, (rule["alert"], family)
            samples = exported[family][1]
            assert samples, f"{family}: no sample to check the rule against"
            for label, wanted in re.findall(r'([a-z_]+)="([^"]*)"', matchers):
                assert any(s.get(label) == wanted for s in samples), (rule["alert"], family, label, wanted)
            # The annotations name labels the family has ("instance" is Prometheus's own).
            labels = set(samples[0]) | {"instance"}
            used = set(re.findall(r"\$labels\.([a-z_]+)", json.dumps(rule.get("annotations", {}))))
            assert used <= labels, (rule["alert"], used - labels)
            # The made-up series of the promtool tests carry the same label names.
            for s in series:
                if s.startswith(family + "{"):
                    names = set(re.findall(r'([a-z_]+)="', s))
                    assert names == labels, (s, labels)


# ---------------------------------------------------------------------------
# Kubernetes

EXPECTED_KINDS = {
    "namespace.yaml": ["Namespace"],
    "configmap.yaml": ["ConfigMap"],
    "secrets.yaml": ["Secret", "Secret"],
    "services.yaml": ["Service", "Service", "Service"],
    "statefulset.yaml": ["StatefulSet"],
    "poddisruptionbudget.yaml": ["PodDisruptionBudget"],
    "servicemonitor.yaml": ["ServiceMonitor"],
    "prometheusrule.yaml": ["PrometheusRule"],
    "haproxy.yaml": ["ConfigMap", "Deployment", "Service"],
}
API_VERSIONS = {
    "Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
    "StatefulSet": "apps/v1", "Deployment": "apps/v1", "PodDisruptionBudget": "policy/v1",
    "ServiceMonitor": "monitoring.coreos.com/v1", "PrometheusRule": "monitoring.coreos.com/v1",
}


def test_every_manifest_parses_with_the_right_kinds():
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert files == set(EXPECTED_KINDS), files
    for name, kinds in EXPECTED_KINDS.items():
        ds = docs(K8S / name)
        assert [d["kind"] for d in ds] == kinds, name
        for d in ds:
            assert d["apiVersion"] == API_VERSIONS[d["kind"]], (name, d["kind"])
            assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", d["metadata"]["name"])
            if d["kind"] != "Namespace":
                assert d["metadata"]["namespace"] == "mail", (name, d["metadata"])
    kust = docs(K8S / "kustomization.yaml")[0]
    assert kust["kind"] == "Kustomization" and kust["namespace"] == "mail"
    assert sorted(kust["resources"]) == sorted(EXPECTED_KINDS)


def container_ports(container):
    return {p["name"]: p["containerPort"] for p in container["ports"]}


def test_statefulset_agrees_with_its_config():
    cfg = tomllib.loads(k8s_sluice_config())
    objs = manifests()
    sts = objs[("StatefulSet", "sluice")]
    pod = pod_template()["spec"]
    c = sluice_container()
    ports = container_ports(c)

    # Every listener and the metrics port are container ports, and back.
    listener_ports = {l["name"]: l["port"] for l in cfg["listener"]}
    assert set(ports.values()) == set(listener_ports.values()) | {cfg["metrics"]["port"]}
    for name, port in listener_ports.items():
        assert ports.get(name) == port, (name, ports)
    assert ports["metrics"] == cfg["metrics"]["port"] and cfg["metrics"]["enabled"]
    assert all(l["address"] == "0.0.0.0" for l in cfg["listener"]) and cfg["metrics"]["address"] == "0.0.0.0"

    # Probes: ready on /readyz, alive on /healthz, both on the metrics port.
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = c[probe]["httpGet"]
        assert get["path"] == path
        assert ports.get(get["port"], get["port"]) == cfg["metrics"]["port"]

    # The spool: its own claim per replica, mounted where the config says.
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert mounts[claim["metadata"]["name"]] == cfg["spool"]["directory"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(mounts) == set(volumes) | {claim["metadata"]["name"]}

    # The config file is the ConfigMap's key, in the directory it is mounted on.
    config_arg = c["args"][c["args"].index("--config") + 1]
    assert volumes["config"]["configMap"]["name"] == "sluice-config"
    assert config_arg == f"{mounts['config']}/sluice.toml"
    assert "subPath" not in str(c["volumeMounts"])  # or the kubelet never updates it

    # TLS Secrets are mounted and exist.
    for vol in ("tls", "ticket-key"):
        assert ("Secret", volumes[vol]["secret"]["secretName"]) in objs

    # Stopping: preStop pause + drain fit in the grace period.
    pre = c["lifecycle"]["preStop"]["exec"]["command"]
    assert pre[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(pre[1]) + seconds(cfg["timeouts"]["drain"])

    sec = c["securityContext"]
    assert sec["allowPrivilegeEscalation"] is False and sec["readOnlyRootFilesystem"] is True
    assert sec["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    assert c["resources"]["limits"]["memory"]

    assert sts["spec"]["serviceName"] == "sluice-headless"
    assert sts["spec"]["selector"]["matchLabels"].items() <= pod_template()["metadata"]["labels"].items()


def test_services_pdb_and_servicemonitor_select_the_pods():
    objs = manifests()
    labels = pod_template()["metadata"]["labels"]
    ports = container_ports(sluice_container())
    services = {name: o for (kind, name), o in objs.items() if kind == "Service" and name.startswith("sluice")}
    assert set(services) == {"sluice-smtp", "sluice-metrics", "sluice-headless"}
    for name, svc in services.items():
        assert svc["spec"]["selector"].items() <= labels.items(), name
        for p in svc["spec"]["ports"]:
            assert p["targetPort"] in ports, (name, p)
    assert services["sluice-headless"]["spec"]["clusterIP"] == "None"
    smtp = services["sluice-smtp"]["spec"]
    assert smtp["externalTrafficPolicy"] == "Local"  # or the client address is SNATed away
    assert [p["port"] for p in smtp["ports"]] == [25]

    pdb = objs[("PodDisruptionBudget", "sluice")]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["maxUnavailable"] == 1

    sm = objs[("ServiceMonitor", "sluice")]["spec"]
    metrics = services["sluice-metrics"]
    assert sm["selector"]["matchLabels"].items() <= metrics["metadata"]["labels"].items()
    for other in ("sluice-smtp", "sluice-headless"):  # exactly one Service is scraped
        assert not sm["selector"]["matchLabels"].items() <= services[other]["metadata"]["labels"].items()
    (ep,) = sm["endpoints"]
    assert ep["path"] == "/metrics"
    assert ep["port"] in {p["name"] for p in metrics["spec"]["ports"]}
    assert sm["namespaceSelector"]["matchNames"] == ["mail"]


def test_haproxy_example_is_valid_and_matches_sluice(tmp_path):
    assert os.access(HAPROXY, os.X_OK), "haproxy is not installed (scripts/install-deps.sh test)"
    text = haproxy_cfg()
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    r = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr

    cfg = tomllib.loads(k8s_sluice_config())
    (proxied,) = [l for l in cfg["listener"] if l.get("proxy_protocol")]
    assert proxied["proxy_trusted"], "a PROXY listener must name who may send the header"
    # Backends: the headless Service's SRV records for the proxied port.
    m = re.search(r"server-template \S+ \d+ _([a-z0-9-]+)\._tcp\.([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local", text)
    assert m, text
    port_name, service, namespace = m.groups()
    assert (service, namespace) == ("sluice-headless", "mail")
    assert port_name == proxied["name"]
    headless = manifests()[("Service", "sluice-headless")]
    assert {"name": port_name, "port": proxied["port"]}.items() <= \
        [p for p in headless["spec"]["ports"] if p["name"] == port_name][0].items()
    # Every connection to Sluice starts with a v2 header; checks ask /readyz on
    # the metrics port.
    assert re.search(r"default-server .*send-proxy-v2", text)
    assert "option httpchk GET /readyz" in text
    assert re.search(rf"check port {cfg['metrics']['port']}\b", text)

    dep = manifests()[("Deployment", "haproxy-smtp")]
    hap = dep["spec"]["template"]["spec"]["containers"][0]
    binds = {int(p) for p in re.findall(r"(?m)^\s*bind :(\d+)", text)}
    assert set(container_ports(hap).values()) == binds
    svc = manifests()[("Service", "haproxy-smtp")]["spec"]
    assert svc["externalTrafficPolicy"] == "Local"
    assert svc["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    # HAProxy pods must not land in the Sluice Services' endpoints.
    assert not pod_template()["metadata"]["labels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()


# ---------------------------------------------------------------------------
# Grafana


def exported_samples(sluice, **tables):
    """{family: (type, [labels of each sample])} from a real scrape of a Sluice on its test config."""
    from test_metrics import scrape  # test_metrics imports half the suite
    gw = sluice.start(**tables)
    families = {}
    for line in scrape(gw).splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            families[name] = (kind, [])
        elif line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in families else name
            families[family][1].append(dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"', line)))
    return families


def test_grafana_dashboard_uses_exported_families(sluice):
    # The families and label values come from a running Sluice, not from a
    # list here: the first dashboard queried three families that were never
    # exported (sluice_messages_accepted_total and two more) and its test,
    # checking against a list of the same names, passed.
    exported = exported_samples(sluice)
    assert DASHBOARD_FAMILIES <= set(exported), DASHBOARD_FAMILIES - set(exported)
    dash = json.loads((DEPLOY / "grafana" / "sluice-dashboard.json").read_text())
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    used = set()
    for p in panels:
        assert p["targets"], p["title"]
        for t in p["targets"]:
            expr = t["expr"]
            selectors = re.findall(r"\b((?:sluice|process)_[a-z_]+)(?:\{([^}]*)\})?", expr)
            assert selectors, expr
            for n, matchers in selectors:
                family = n if n in exported else re.sub(r"_(bucket|sum|count)$", "", n)
                assert family in exported, f"{p['title']}: {n} is not an exported family"
                kind, samples = exported[family]
                if kind == "histogram":
                    assert n != family, f"{expr}: a histogram is read through _bucket/_sum/_count"
                # Every exact label matcher names a label value Sluice exports.
                for label, wanted in re.findall(r'([a-z_]+)="([^"]*)"', matchers):
                    assert any(s.get(label) == wanted for s in samples), \
                        f"{p['title']}: {family} has no sample with {label}={wanted!r}"
                used.add(family)
            if "histogram_quantile" in expr:
                assert "_bucket" in expr and "le" in re.findall(r"by \(([^)]*)\)", expr)[0], expr
            assert 'instance=~"$instance"' in expr, expr
    assert used == DASHBOARD_FAMILIES, f"families without a panel: {DASHBOARD_FAMILIES - used}"
    for q in (0.5, 0.99):
        assert any(f"histogram_quantile({q}, " in t["expr"] and "sluice_spool_commit_seconds_bucket" in t["expr"]
                   for p in panels for t in p["targets"]), q
    variables = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "instance"} <= variables
