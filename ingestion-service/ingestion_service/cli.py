"""`quotaflow import FILE --kind KIND`: upload a file to the ingestion API and follow the job with a
progress bar. Returns 0 when the job succeeded (rows may still have been rejected: the report says
where), 1 when it failed or the upload was refused."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

API = "/api/v1/ingestion"


def import_file(path: str | Path, kind: str, base_url: str = "http://127.0.0.1:8000", token: str | None = None,
                *, client: httpx.Client | None = None, console: Console | None = None, poll_seconds: float = 0.2,
                timeout_seconds: float = 600.0) -> int:
    console = console or Console()
    path = Path(path)
    if not path.is_file():
        console.print(f"[red]No such file:[/red] {path}")
        return 1
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    own_client = client is None
    client = client or httpx.Client(base_url=base_url, timeout=httpx.Timeout(300.0))
    try:
        with path.open("rb") as handle:
            response = client.post(f"{API}/imports", params={"kind": kind}, headers=headers,
                                   files={"file": (path.name, handle, "application/octet-stream")})
        if response.status_code != 202:
            _print_problem(console, response)
            return 1
        job = response.json()
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TextColumn("{task.fields[phase]}"), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task(f"{kind} ← {path.name}", total=100, phase=job["status"])
            deadline = time.monotonic() + timeout_seconds
            while job["status"] not in ("succeeded", "failed"):
                if time.monotonic() > deadline:
                    console.print(f"[red]Gave up waiting for job {job['id']}[/red]")
                    return 1
                time.sleep(poll_seconds)
                job = client.get(f"{API}/imports/{job['id']}", headers=headers).json()
                progress.update(task, completed=job["progress_percent"], phase=job.get("phase") or job["status"])
            progress.update(task, completed=100, phase=job["status"])
        return _summary(console, job)
    finally:
        if own_client:
            client.close()


def _summary(console: Console, job: dict) -> int:
    if job["status"] == "failed":
        console.print(f"[red]Import failed[/red] ({job['problem_code']}): {job['problem_detail']}")
        return 1
    console.print(f"[green]Imported[/green] {job['kind']}: accepted {job['accepted']:,}, "
                  f"unchanged {job['unchanged']:,}, rejected {job['rejected']:,} (job {job['id']})")
    if job["rejected"]:
        console.print(f"Rejected rows with reasons: {job['error_report_url']}")
    return 0


def _print_problem(console: Console, response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    console.print(f"[red]Upload refused ({response.status_code} {body.get('code', '')}):[/red] {body.get('detail', '')}")
