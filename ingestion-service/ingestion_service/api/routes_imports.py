"""Uploads → import jobs (202), job status and progress, the row-level error report as CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import literal_column, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ingestion_service.adapters import jobs_repository as jobs
from ingestion_service.adapters.tables import import_jobs
from ingestion_service.api.schemas import ImportJobRead
from ingestion_service.application.kinds import KINDS
from ingestion_service.domain.problems import FileProblem
from ingestion_service.domain.tables import check_csv_header, detect_format
from shared.auth import CurrentPrincipal, require_roles
from shared.problems import ProblemError

UPLOADERS = ("hq_planner", "admin")
MULTIPART_SLACK = 64 * 1024  # the multipart envelope around the file: boundaries, part headers, the filename


class _BodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI lets an HTTPException through its form parsing."""

    def __init__(self) -> None:
        super().__init__(413)


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, "file_too_large", f"the file is larger than {limit} bytes", max_bytes=limit)


def upload_limited_route(limit_of):
    """A route class that refuses a body over the upload limit before it is parsed or spooled:
    at once from Content-Length, else as soon as the streamed bytes pass it."""

    class UploadLimitedRoute(APIRoute):
        def get_route_handler(self):
            handler = super().get_route_handler()

            async def limited(request: Request):
                limit = limit_of()
                allowed = limit + MULTIPART_SLACK
                length = request.headers.get("content-length", "")
                if length.isdigit() and int(length) > allowed:
                    raise _too_large(limit)
                receive, seen = request.receive, 0

                async def counting_receive():
                    nonlocal seen
                    message = await receive()
                    if message["type"] == "http.request":
                        seen += len(message.get("body", b""))
                        if seen > allowed:
                            raise _BodyTooLarge()
                    return message

                try:
                    return await handler(Request(request.scope, counting_receive))
                except _BodyTooLarge:
                    raise _too_large(limit) from None

            return limited

    return UploadLimitedRoute


def build_router(service) -> APIRouter:
    router = APIRouter(tags=["imports"], route_class=upload_limited_route(lambda: service.settings.max_upload_bytes))

    def read(job_id: str, request: Request) -> ImportJobRead:
        with service.sessions() as session:
            row = jobs.get_job(session, job_id)
        if row is None:
            raise ProblemError(404, "import_job_not_found", f"no import job {job_id}")
        progress = service.progress.get(job_id)
        return ImportJobRead.from_row(row, progress.phase if progress else None,
                                      progress.percent if progress else None, request.scope.get("root_path", ""))

    @router.post("/imports", status_code=202, response_model=ImportJobRead,
                 dependencies=[require_roles(*UPLOADERS)],
                 summary="Upload a CSV / XLSX / JSON-lines file; answers 202 with the import job")
    async def upload(
        request: Request,
        principal: CurrentPrincipal,
        file: Annotated[UploadFile, File(description="CSV (UTF-8, UTF-8 BOM or GB18030), XLSX or JSON lines")],
        kind: Annotated[str, Query(description=f"one of: {', '.join(KINDS)}")],
    ):
        limit = service.settings.max_upload_bytes
        if file.size is not None and file.size > limit:
            raise _too_large(limit)
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise _too_large(limit)
        try:
            if detect_format(file.filename, data) == "csv":
                check_csv_header(data)  # a header too wide is refused before the bytes are even stored
            submitted = await run_in_threadpool(
                service.importer.submit, data, kind=kind, filename=file.filename, content_type=file.content_type,
                source=f"upload:{principal.subject}")
        except FileProblem as problem:
            raise ProblemError(422, problem.code, problem.detail, kind=kind, filename=file.filename) from problem
        service.worker.enqueue(submitted.job_id)
        body = read(submitted.job_id, request)
        location = f"{request.scope.get('root_path', '')}/imports/{submitted.job_id}"
        return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Location": location})

    @router.get("/imports", response_model=list[ImportJobRead], summary="Recent import jobs, newest first")
    def list_jobs(request: Request, _principal: CurrentPrincipal, limit: int = Query(50, ge=1, le=500)):
        with service.sessions() as session:
            ids = session.execute(_newest_first(session, limit)).scalars().all()
        return [read(job_id, request) for job_id in ids]

    @router.get("/imports/{job_id}", response_model=ImportJobRead, summary="An import job: status, progress, counts")
    def get_job(job_id: str, request: Request, _principal: CurrentPrincipal):
        return read(job_id, request)

    @router.get("/imports/{job_id}/errors.csv", summary="The rejected rows: row, column, value, code, reason",
                response_class=Response, responses={200: {"content": {"text/csv": {}}}})
    def error_report(job_id: str, request: Request, _principal: CurrentPrincipal):
        read(job_id, request)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["row", "column", "value", "code", "reason"])
        with service.sessions() as session:
            for error in jobs.iter_rejected_rows(session, job_id):
                writer.writerow([error.row, error.column, error.value, error.code, error.reason])
        # utf-8-sig so that Excel opens the Chinese text correctly (casebook C05, the other way round)
        return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'})

    return router


def _newest_first(session, limit: int):
    """Newest first. Jobs submitted at the same instant (a replay clock does not move between
    them, a pull submits several pages at once) come in reverse submission order: on SQLite by
    rowid; PostgreSQL has no insertion order to fall back on, so ties go by id there."""
    query = select(import_jobs.c.id).order_by(import_jobs.c.created_at.desc())
    if session.get_bind().dialect.name == "sqlite":
        query = query.order_by(literal_column("import_jobs.rowid").desc())
    return query.order_by(import_jobs.c.id.desc()).limit(limit)
