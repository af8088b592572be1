"""Uploads → import jobs (202), job status and progress, the row-level error report as CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ingestion_service.adapters import jobs_repository as jobs
from ingestion_service.api.schemas import ImportJobRead
from ingestion_service.application.kinds import KINDS
from ingestion_service.domain.problems import FileProblem
from shared.auth import CurrentPrincipal, require_roles
from shared.problems import ProblemError

UPLOADERS = ("hq_planner", "admin")


def build_router(service) -> APIRouter:
    router = APIRouter(tags=["imports"])

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
        data = await file.read()
        if len(data) > service.settings.max_upload_bytes:
            raise ProblemError(413, "file_too_large", f"the file is larger than {service.settings.max_upload_bytes} bytes")
        try:
            submitted = await run_in_threadpool(
                service.importer.submit, data, kind=kind, filename=file.filename, content_type=file.content_type,
                source=f"upload:{principal.subject}")
        except FileProblem as problem:
            raise ProblemError(422, problem.code, problem.detail, kind=kind, filename=file.filename) from problem
        service.worker.enqueue(submitted.job_id)
        body = read(submitted.job_id, request)
        location = f"{request.scope.get('root_path', '')}/imports/{submitted.job_id}"
        return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Location": location})

    @router.get("/imports", response_model=list[ImportJobRead], summary="Recent import jobs")
    def list_jobs(request: Request, _principal: CurrentPrincipal, limit: int = Query(50, ge=1, le=500)):
        with service.sessions() as session:
            rows = jobs.list_jobs(session, limit)
        return [read(row.id, request) for row in rows]

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
