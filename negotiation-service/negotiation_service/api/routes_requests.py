"""Windows and adjustment requests: list, file, amend, approve, reject."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Response

from negotiation_service.adapters.repository import NegotiationRepository
from negotiation_service.api.deps import CurrentActor, RouteDeps
from negotiation_service.api.schemas import DecisionCreate, RequestCreate, RequestUpdate
from negotiation_service.application import requests as commands
from negotiation_service.application.views import request_view, window_view
from negotiation_service.application.windows import final_version_of
from negotiation_service.domain.audit import jsonable
from negotiation_service.domain.errors import ForbiddenError
from negotiation_service.domain.requests import Claim, Verdict
from negotiation_service.domain.window import WindowStatus


def requests_router(deps: RouteDeps) -> APIRouter:
    router = APIRouter(tags=["negotiation"])

    @router.get("/windows")
    def list_windows(actor: CurrentActor, package_id: str | None = None) -> list[dict]:
        with deps.sessions() as session:
            return [window_view(w) for w in NegotiationRepository(session).windows(package_id)]

    @router.get("/windows/{window_id}", description="The window with its package and, once closed, the final "
                "lines. Lines are limited to the caller's scope: a city manager sees their cities, a regional "
                "director their regions; HQ planners, finance and admins every city.")
    def get_window(window_id: str, actor: CurrentActor) -> dict:
        with deps.sessions() as session:
            repo = NegotiationRepository(session)
            window = repo.window(window_id)
            package = repo.package(window.package_id, window.package_version)
            view = window_view(window)
            view["policy"] = repo.window_policy(window_id).value
            visible = tuple(line for line in package.lines if actor.may_view_city(line.city_code, line.region))
            view["package"] = jsonable(replace(package, lines=visible))
            regions = {line.city_code: line.region for line in package.lines}
            final = [row for row in repo.final_lines(window_id)
                     if actor.may_view_city(row.city_code, regions.get(row.city_code, ""))]
            if window.status is WindowStatus.CLOSED:
                view["final_version"] = final_version_of(session, window_id)
                view["final"] = [
                    {"city_code": row.city_code, "original_target": format(row.original_target, "f"),
                     "final_target": format(row.final_target, "f"), "change": row.change,
                     "request_id": row.request_id}
                    for row in final
                ]
                if actor.may_read_national_document():
                    view["document_id"] = f"doc-{window_id}"
            return view

    @router.get("/windows/{window_id}/requests")
    def list_requests(window_id: str, actor: CurrentActor) -> list[dict]:
        with deps.sessions() as session:
            repo = NegotiationRepository(session)
            repo.window(window_id)
            return [request_view(r) for r in repo.requests(window_id=window_id)
                    if actor.may_view_city(r.city_code, r.region) or actor.user_id == r.requester_id]

    @router.post("/windows/{window_id}/requests", status_code=201)
    def file_request(window_id: str, body: RequestCreate, actor: CurrentActor, response: Response) -> dict:
        with deps.unit_of_work() as uow:
            request = commands.file(uow, actor, window_id, Claim(body.city_code, body.claim, body.category,
                                                                   body.reason, tuple(body.evidence)))
            uow.commit()
        response.headers["Location"] = f"requests/{request.request_id}"
        return request_view(request)

    @router.get("/requests/{request_id}")
    def get_request(request_id: str, actor: CurrentActor) -> dict:
        with deps.sessions() as session:
            request = NegotiationRepository(session).request(request_id)
        if not (actor.may_view_city(request.city_code, request.region) or actor.user_id == request.requester_id):
            raise ForbiddenError("out_of_scope", f"{actor.user_id} may not see request {request_id}")
        return request_view(request)

    @router.patch("/requests/{request_id}")
    def amend_request(request_id: str, body: RequestUpdate, actor: CurrentActor) -> dict:
        with deps.unit_of_work() as uow:
            request = commands.amend(uow, actor, request_id, claim=body.claim,
                                     category=body.category.value if body.category else None, reason=body.reason,
                                     evidence=body.evidence, expected_version=body.version)
            uow.commit()
        return request_view(request)

    @router.post("/requests/{request_id}/approve")
    def approve(request_id: str, body: DecisionCreate, actor: CurrentActor) -> dict:
        return _decide(request_id, Verdict.APPROVE, body, actor)

    @router.post("/requests/{request_id}/reject")
    def reject(request_id: str, body: DecisionCreate, actor: CurrentActor) -> dict:
        return _decide(request_id, Verdict.REJECT, body, actor)

    def _decide(request_id: str, verdict: Verdict, body: DecisionCreate, actor) -> dict:
        with deps.unit_of_work() as uow:
            request = commands.decide_request(uow, actor, request_id, verdict, body.comment, body.slot, body.version)
            uow.commit()
        return request_view(request)

    return router
