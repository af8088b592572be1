"""The archived PDF, the audit trail and its verification, the integrity record."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from negotiation_service.adapters.audit_store import audit_entries, verify_audit
from negotiation_service.adapters.repository import NegotiationRepository
from negotiation_service.api.deps import CurrentActor, RouteDeps
from negotiation_service.api.schemas import LiftCreate
from negotiation_service.application import integrity as integrity_commands
from negotiation_service.application.windows import document
from negotiation_service.domain.actors import ADMIN, FINANCE, HQ_PLANNER
from negotiation_service.domain.audit import jsonable
from negotiation_service.domain.errors import ForbiddenError, NotFoundError
from negotiation_service.domain.integrity import may_view_record
from shared.timeutil import iso_shanghai

AUDITORS = frozenset({HQ_PLANNER, FINANCE, ADMIN})
MAX_AUDIT_ROWS = 10_000


def records_router(deps: RouteDeps) -> APIRouter:
    router = APIRouter(tags=["records"])

    @router.get("/documents/{document_id}", response_class=Response,
                responses={200: {"content": {"application/pdf": {}}}})
    def download(document_id: str, actor: CurrentActor) -> Response:
        """The archived final PDF lists every city: HQ planners, finance, admins and regional directors."""
        if not actor.may_read_national_document():
            raise ForbiddenError("out_of_scope", f"{actor.user_id} may not read the national final document")
        with deps.sessions() as session:
            row = document(session, document_id)
        if row is None:
            raise NotFoundError("document_not_found", f"no document {document_id}")
        return Response(row.content, media_type=row.media_type, headers={
            "Content-Disposition": f'attachment; filename="{row.filename}"', "X-Content-SHA256": row.sha256,
        })

    @router.get("/audit")
    def audit(actor: CurrentActor, entity: str | None = None,
              limit: int = Query(500, ge=1, le=MAX_AUDIT_ROWS)) -> list[dict]:
        _require_auditor(actor)
        with deps.sessions() as session:
            return [jsonable(entry) for entry in audit_entries(session, entity, limit)]

    @router.get("/audit/verify")
    def verify(actor: CurrentActor) -> dict:
        _require_auditor(actor)
        with deps.sessions() as session:
            return jsonable(verify_audit(session))

    @router.get("/integrity")
    def integrity_record(actor: CurrentActor, user_id: str | None = None) -> list[dict]:
        with deps.sessions() as session:
            records = NegotiationRepository(session).scored(user_id)
        return [
            {**jsonable(record), "deviation": format(record.deviation_shown, "f"),
             "scored_at_local": iso_shanghai(record.scored_at)}
            for record in records if may_view_record(actor, record)
        ]

    @router.get("/restrictions")
    def list_restrictions(actor: CurrentActor, user_id: str | None = None) -> list[dict]:
        with deps.sessions() as session:
            found = NegotiationRepository(session).restrictions(user_id)
        return [jsonable(r) for r in found if actor.roles & AUDITORS or r.user_id == actor.user_id]

    @router.post("/restrictions/{restriction_id}/lift")
    def lift(restriction_id: str, body: LiftCreate, actor: CurrentActor) -> dict:
        with deps.unit_of_work() as uow:
            lifted = integrity_commands.lift_restriction(uow, actor, restriction_id, body.reason)
            uow.commit()
        return jsonable(lifted)

    return router


def _require_auditor(actor) -> None:
    if not actor.roles & AUDITORS:
        raise ForbiddenError("role_required", "the audit trail is for HQ, finance and admins")
