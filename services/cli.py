"""`python -m services ...` / `quotaflow ...`: run services, mint tokens, import files, docs."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

from services.catalog import DEFAULT_PORTS, load, load_all, parse_targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quotaflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="serve a set of services")
    run.add_argument("--target", default="all", help="all, or a comma-separated list of services")
    run.add_argument("--mode", choices=["embedded", "distributed"], default=None)
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=None)

    token = commands.add_parser("token", help="mint a development JWT")
    token.add_argument("--sub", required=True)
    token.add_argument("--role", action="append", required=True)
    token.add_argument("--region", action="append", default=[])
    token.add_argument("--city", action="append", default=[])
    token.add_argument("--name", default=None)
    token.add_argument("--hours", type=int, default=12, help="validity, 1 to 720 hours")

    importer = commands.add_parser("import", help="upload a file to the ingestion service and follow the job")
    importer.add_argument("file", type=Path)
    importer.add_argument("--kind", required=True)
    importer.add_argument("--url", default=os.environ.get("QUOTAFLOW_URL", "http://127.0.0.1:8000"))
    importer.add_argument("--token", default=os.environ.get("QUOTAFLOW_TOKEN"),
                          help="a bearer token with the hq_planner role (default: $QUOTAFLOW_TOKEN)")

    migration = commands.add_parser("makemigration", help="autogenerate an Alembic revision for a service")
    migration.add_argument("--target", required=True)
    migration.add_argument("-m", "--message", required=True)

    commands.add_parser("asyncapi", help="print docs/asyncapi.yaml generated from the event models")
    openapi = commands.add_parser("openapi", help="write each service's OpenAPI document and the combined one")
    openapi.add_argument("--out", type=Path, default=Path("docs/openapi"))

    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "token":
        return _token(args)
    if args.command == "import":
        return _import(args)
    if args.command == "makemigration":
        return _makemigration(args)
    if args.command == "openapi":
        return _openapi(args)
    if args.command == "asyncapi":
        from shared.asyncapi import render

        sys.stdout.write(render())
        return 0
    return 2


def _run(args) -> int:
    import uvicorn

    from shared.hosting import Host
    from shared.observability import configure_logging
    from shared.settings import PlatformSettings

    names = parse_targets(args.target)
    overrides = {"mode": args.mode} if args.mode else {}
    platform = PlatformSettings(**overrides)
    configure_logging(platform.log_level)
    port = args.port or (DEFAULT_PORTS[names[0]] if len(names) == 1 else 8000)
    host = Host(load_all(names), platform)
    uvicorn.run(host.app(), host=args.host, port=port, log_config=None, timeout_graceful_shutdown=20)
    return 0


def _token(args) -> int:
    from shared.auth import ROLES, Authenticator
    from shared.settings import PlatformSettings

    unknown = sorted(set(args.role) - set(ROLES))
    if unknown:
        print(f"quotaflow token: unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}", file=sys.stderr)
        return 2
    if not 1 <= args.hours <= 720:
        print("quotaflow token: --hours must be between 1 and 720", file=sys.stderr)
        return 2

    platform = PlatformSettings()
    authenticator = Authenticator(platform.jwt_secret.get_secret_value(), platform.jwt_issuer)
    print(
        authenticator.mint(
            args.sub, args.role, regions=args.region, cities=args.city, name=args.name,
            ttl=timedelta(hours=args.hours),
        )
    )
    return 0


def _import(args) -> int:
    import httpx
    from ingestion_service.cli import import_file

    if not args.token:
        print("quotaflow import: give --token (or set QUOTAFLOW_TOKEN), e.g. "
              "--token $(quotaflow token --sub me --role hq_planner)", file=sys.stderr)
        return 2
    try:
        return import_file(args.file, args.kind, base_url=args.url, token=args.token)
    except httpx.ConnectError as error:
        print(f"quotaflow import: cannot reach {args.url}: {error}. Is `make run` serving?", file=sys.stderr)
        return 1


def _makemigration(args) -> int:
    import tempfile

    from shared.db import make_engine
    from shared.migrations import make_revision

    definition = load(args.target)
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/scratch.db")
        make_revision(definition.migrations, engine, definition.version_table, args.message)
    print(json.dumps({"service": definition.name, "migrations": str(definition.migrations)}))
    return 0


def _openapi(args) -> int:
    """Write the documents exactly as the running system serves them."""
    import tempfile

    from fastapi.testclient import TestClient

    from services.catalog import ALL_SERVICES
    from shared.hosting import Host
    from shared.settings import PlatformSettings

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        host = Host(load_all(list(ALL_SERVICES)), PlatformSettings(data_dir=Path(scratch), environment="test"))
        with TestClient(host.app()) as client:
            documents = {name: client.get(f"/api/v1/{name}/openapi.json").json() for name in ALL_SERVICES}
            documents["quotaflow"] = client.get("/openapi.json").json()
    for name, document in documents.items():
        (args.out / f"{name}.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0
