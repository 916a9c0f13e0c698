#!/usr/bin/env python3
"""High availability, drilled: two `mhp serve` and two `mhp worker` on one PostgreSQL behind
HAProxy (health checks on /readyz), under a bounded loopback load of uploads (each with an
Idempotency-Key, retried until acknowledged) and roster reads, through five faults:

  kill -9 a server (restarted), a rolling restart of both servers (SIGTERM: readiness off,
  drain, exit; started again), a restart of PostgreSQL, and kill -9 of the worker holding a
  training step (the other takes it over when its lease expires).

Afterwards every acknowledged upload must be present and none stored twice, the training run
must have completed, the audit chains must verify, errors may only fall in the fault phases,
and sign-in throttling must hold across the servers (failures spread over both count together).
Prints a table and JSON: throughput, error counts and p99 latency per phase.

Run by scripts/ha-drill.sh, which makes the PostgreSQL cluster and passes (environment):
MHP, WORK, PG_BIN, PG_DATA, PG_SOCKET, PG_PORT, AS_PG (a command prefix, may be empty),
DATABASE_URL, KEYS_URL. Only the standard library.
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

MHP = os.environ["MHP"]
WORK = os.environ["WORK"]
AS_PG = os.environ.get("AS_PG", "").split()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


COMMON = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "DATABASE_URL": os.environ["DATABASE_URL"],
    "MHP_KEYS_STORE_URL": os.environ["KEYS_URL"],
    "MHP_OBJECT_STORE_PATH": f"{WORK}/objects",
    # One machine: the local key ring stands in for KMS (the multi-instance test of the root,
    # crates/cli/tests/it/root.rs, does this with KMS and S3 in moto).
    "MHP_KEYS_KEYRING_DIR": f"{WORK}/keyring",
    "MHP_LOG_LEVEL": "warn",
    "MHP_SECURITY_MONITOR": "false",
    "MHP_BACKUP_SCHEDULE": "off",
}


def run(args, extra=None, stdin=None):
    env = dict(COMMON, **(extra or {}))
    out = subprocess.run([MHP, *args], env=env, input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"ha-drill: mhp {' '.join(args)} failed: {out.stderr[-2000:]}")
    return out.stdout


def http(method, url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:  # connection refused or reset, time-out: the request failed
        return 0, b""


class Proc:
    """A process of the drill: started, killed, restarted, with its log kept."""

    def __init__(self, name, args, extra):
        self.name, self.args, self.extra = name, args, extra
        self.p = None
        self.start()

    def start(self):
        log = open(f"{WORK}/{self.name}.log", "ab")
        self.p = subprocess.Popen([MHP, *self.args], env=dict(COMMON, **self.extra),
                                  stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def kill(self, sig):
        self.p.send_signal(sig)

    def wait(self, limit):
        return self.p.wait(timeout=limit)


def wait_ready(port, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline:
        if http("GET", f"http://127.0.0.1:{port}/readyz", timeout=2)[0] == 200:
            return
        time.sleep(0.05)
    sys.exit(f"ha-drill: nothing ready on {port}")


def sql(query):
    out = subprocess.run([*AS_PG, f"{os.environ['PG_BIN']}/psql", "-X", "-q", "-A", "-t", "-h",
                          os.environ["PG_SOCKET"], "-p", os.environ["PG_PORT"], "-U", "postgres",
                          "-d", "mhp", "-c", query], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def counts():
    rows = sql("SELECT subject_id, count(*) FROM assessments GROUP BY subject_id")
    return {line.split("|")[0]: int(line.split("|")[1]) for line in rows.splitlines() if line}


def main():
    random.seed(7)
    demo = run(["demo", "--data-dir", f"{WORK}/demo", "--teams", "2", "--subjects-per-team", "15",
                "--weeks", "12"])
    org = re.search(r"^organisation: .*\((.*)\)$", demo, re.M).group(1)
    key = re.search(r"\(shown once, expires in 30 days\): (\S+)", demo).group(1)
    coach = re.search(r"^\s+coach\s+(\S+@\S+)", demo, re.M).group(1)
    auth = {"Authorization": f"Bearer {key}"}

    pa, pb, pf = free_port(), free_port(), free_port()
    serve_env = {"MHP_PIPELINES_WORKERS": "0", "MHP_HTTP_DRAIN_DELAY_MS": "1500"}
    servers = {
        "a": (Proc("serve-a", ["serve", "--listen", f"127.0.0.1:{pa}", "--data-dir", f"{WORK}/a"],
                   serve_env), pa),
        "b": (Proc("serve-b", ["serve", "--listen", f"127.0.0.1:{pb}", "--data-dir", f"{WORK}/b"],
                   serve_env), pb),
    }
    worker_env = {"MHP_PIPELINES_LEASE_S": "5", "MHP_PIPELINES_POLL_MS": "200",
                  "MHP_PIPELINES_METRICS_LISTEN": "off"}
    workers = [Proc(f"worker-{i}", ["worker", "--workers", "1", "--data-dir", f"{WORK}/w{i}"],
                    worker_env) for i in (1, 2)]
    for _, port in servers.values():
        wait_ready(port)
    with open(f"{WORK}/haproxy.cfg", "w") as cfg:
        cfg.write(open("tools/ha/haproxy.cfg").read()
                  .replace("@FRONT@", str(pf)).replace("@A@", str(pa)).replace("@B@", str(pb)))
    haproxy = subprocess.Popen(["haproxy", "-db", "-f", f"{WORK}/haproxy.cfg"],
                               stdout=open(f"{WORK}/haproxy.log", "wb"), stderr=subprocess.STDOUT)
    front = f"http://127.0.0.1:{pf}"
    wait_ready(pf)
    api = f"{front}/api/v1/orgs/{org}"
    status, body = http("GET", f"{api}/subjects?limit=100", headers=auth)
    subjects = [s["id"] for s in json.loads(body)["items"]]
    before = counts()
    recording = open(f"{WORK}/jump.csv", "rb").read()

    phase = ["setup"]
    ops = []          # (phase, kind, ok, seconds)
    acknowledged = []  # (subject, assessment id)
    stop = threading.Event()
    lock = threading.Lock()

    def note(kind, ok, seconds):
        with lock:
            ops.append((phase[0], kind, ok, seconds))

    def uploader():
        while not stop.is_set():
            subject, idem = random.choice(subjects), str(uuid.uuid4())
            for _ in range(100):
                t = time.time()
                status, body = http("POST", f"{api}/subjects/{subject}/assessments", recording,
                                    dict(auth, **{"Content-Type": "text/csv",
                                                  "Idempotency-Key": idem}), timeout=20)
                ok = status in (200, 201)
                note("upload", ok, time.time() - t)
                if ok:
                    with lock:
                        acknowledged.append((subject, json.loads(body)["id"]))
                    break
                time.sleep(0.2)
            else:
                with lock:
                    ops.append((phase[0], "upload-abandoned", False, 0))

    def reader():
        while not stop.is_set():
            t = time.time()
            status, _ = http("GET", f"{api}/subjects?limit=50", headers=auth)
            note("read", status == 200, time.time() - t)
            time.sleep(0.02)

    threads = [threading.Thread(target=uploader) for _ in range(2)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()

    timeline = []

    def enter(name):
        phase[0] = name
        timeline.append((name, time.time()))

    enter("steady")
    time.sleep(6)

    enter("kill -9 a server")
    servers["a"][0].kill(signal.SIGKILL)
    servers["a"][0].wait(10)
    time.sleep(2)
    servers["a"][0].start()
    wait_ready(pa)
    time.sleep(2)

    enter("rolling restart")
    for name in ("a", "b"):
        proc, port = servers[name]
        proc.kill(signal.SIGTERM)
        proc.wait(60)
        proc.start()
        wait_ready(port)
        time.sleep(2)  # HAProxy sees it up again (rise 2 x 300 ms) before the next goes

    enter("PostgreSQL restart")
    subprocess.run([*AS_PG, f"{os.environ['PG_BIN']}/pg_ctl", "-D", os.environ["PG_DATA"], "-m",
                    "fast", "-w", "-t", "60", "restart", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {os.environ['PG_PORT']} "
                    f"-k {os.environ['PG_SOCKET']}", "-l", f"{os.environ['PG_DATA']}.log"],
                   check=True, capture_output=True)
    time.sleep(4)

    enter("kill -9 the worker holding a training step")
    # Training long enough to be caught in the act: many small trees.
    model = {"model": "gradient_boosting", "n_trees": 10000, "learning_rate": 0.001,
             "max_depth": 3, "min_samples_leaf": 5, "subsample": 0.8, "n_bins": 32, "seed": 0,
             "l2": 1.0}
    status, body = http("POST", f"{api}/pipelines/train-injury-risk/runs",
                        json.dumps({"params": {"season_start": "2025-09-01",
                                               "model": model}}).encode(),
                        dict(auth, **{"Content-Type": "application/json"}))
    assert status == 202, (status, body)
    run_id = json.loads(body)["id"]
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline:
        owner = sql("SELECT lease_owner FROM pipeline_jobs WHERE run_id = "
                    f"'{run_id}' AND status = 'running' AND step = 'train'")
        for w in workers:
            if owner and f"-{w.p.pid}-" in owner:
                w.kill(signal.SIGKILL)
                killed = w.name
        time.sleep(0.1)
    assert killed, "no worker took the training step"
    run_status = None
    while time.time() < deadline:
        status, body = http("GET", f"{api}/pipeline-runs/{run_id}", headers=auth)
        run_status = json.loads(body)["status"] if status == 200 else None
        if run_status in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.5)

    enter("steady after")
    time.sleep(5)
    stop.set()
    for t in threads:
        t.join(60)
    enter("end")

    # --- checks -------------------------------------------------------------------------------
    failures = []
    fault = {"kill -9 a server", "rolling restart", "PostgreSQL restart"}
    report = []
    for (name, start), (_, end) in zip(timeline, timeline[1:]):
        mine = [o for o in ops if o[0] == name]
        good = [o for o in mine if o[2]]
        errors = len(mine) - len(good)
        lat = sorted(o[3] for o in good)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None
        report.append({"phase": name, "seconds": round(end - start, 1), "ok": len(good),
                       "errors": errors, "ok_per_s": round(len(good) / (end - start), 1),
                       "p99_ms": round(p99 * 1000, 1) if p99 else None})
        if errors and name not in fault:
            failures.append(f"{errors} error(s) outside a fault window, in {name!r}")
    if any(o[1] == "upload-abandoned" for o in ops):
        failures.append("an upload was never acknowledged")
    after = counts()
    acked = {}
    for subject, _ in acknowledged:
        acked[subject] = acked.get(subject, 0) + 1
    for subject in set(before) | set(after):
        stored = after.get(subject, 0) - before.get(subject, 0)
        if stored != acked.get(subject, 0):
            failures.append(f"subject {subject}: {stored} stored, {acked.get(subject, 0)} acknowledged")
    for _, assessment in acknowledged:
        if http("GET", f"{api}/assessments/{assessment}", headers=auth)[0] != 200:
            failures.append(f"acknowledged assessment {assessment} is missing")
    if run_status != "succeeded":
        failures.append(f"the training run ended {run_status}: "
                        f"{http('GET', f'{api}/pipeline-runs/{run_id}', headers=auth)[1][:2000]!r}")
    verify = subprocess.run([MHP, "audit", "verify", "--data-dir", f"{WORK}/v"],
                            env=COMMON, capture_output=True, text=True)
    if verify.returncode != 0:
        failures.append(f"mhp audit verify: {verify.stdout[-500:]} {verify.stderr[-500:]}")

    # Throttling across servers: five wrong passwords spread over both lock the address on both.
    login = json.dumps({"email": coach, "password": "not the password at all"}).encode()
    headers = {"Content-Type": "application/json"}
    for i in range(5):
        port = (pa, pb)[i % 2]
        http("POST", f"http://127.0.0.1:{port}/api/v1/auth/login", login, headers)
    throttled = [http("POST", f"http://127.0.0.1:{port}/api/v1/auth/login", login, headers)[0]
                 for port in (pa, pb)]
    if throttled != [429, 429]:
        failures.append(f"sign-in throttling does not hold across servers: {throttled}")

    haproxy.terminate()
    for proc, _ in servers.values():
        proc.kill(signal.SIGTERM)
    for w in workers:
        if w.p.poll() is None:
            w.kill(signal.SIGTERM)

    print(f"{'phase':<46}{'s':>6}{'ok':>7}{'errors':>8}{'ok/s':>8}{'p99 ms':>9}")
    for r in report:
        print(f"{r['phase']:<46}{r['seconds']:>6}{r['ok']:>7}{r['errors']:>8}{r['ok_per_s']:>8}"
              f"{r['p99_ms'] if r['p99_ms'] is not None else '-':>9}")
    print(json.dumps({"phases": report, "uploads_acknowledged": len(acknowledged),
                      "training_run": run_status, "worker_killed": killed,
                      "throttled_on_both_servers": throttled == [429, 429],
                      "failures": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
