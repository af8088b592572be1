"""Rules: CRUD with immutable versions, YAML import/export, city groups."""

from __future__ import annotations

import json

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from alerts_service.adapters.fact_repository import FactRepository
from alerts_service.adapters.rule_repository import RuleRepository, StaleVersion
from alerts_service.api.deps import AlertsWiring, Wiring
from alerts_service.api.schemas import (
    MAX_VERSION,
    GroupWrite,
    GroupWritten,
    RuleCreate,
    RuleImportResult,
    RuleRead,
    RuleUpdate,
    RuleVersionRead,
)
from alerts_service.domain.cities import CityDirectory
from alerts_service.domain.rule_yaml import dump_rules_yaml, load_rules_yaml
from alerts_service.domain.rules import Rule, RuleInvalid, admit, region_warnings, rule_from_mapping
from shared.auth import CurrentPrincipal, Principal, require_roles
from shared.problems import ProblemError

router = APIRouter(tags=["rules"])
EDITORS = ("hq_planner", "admin")


def rule_read(rule: Rule, versions=None, warnings: list[str] | None = None) -> RuleRead:
    data = rule.to_mapping()
    return RuleRead(
        id=rule.rule_id, version=rule.version, name=rule.name, kind=rule.kind, description=rule.description,
        enabled=rule.enabled, scope=data["scope"], params=data["params"], action=data["action"],
        cooldown=data["cooldown"],
        versions=None if versions is None else [RuleVersionRead(version=v, created_at=t, created_by=b)
                                                for v, t, b in versions],
        warnings=warnings or [],
    )


def parse_rule(raw: dict, rule_id: str | None = None) -> Rule:
    try:
        return rule_from_mapping(raw, rule_id=rule_id)
    except RuleInvalid as error:
        raise _invalid(error) from error


def _invalid(error: RuleInvalid, prefix: str = "") -> ProblemError:
    field = f"{prefix}{error.field}"
    return ProblemError(422, "rule_invalid", f"{field}: {error.message}", field=field)


def _directory(session, groups: dict[str, tuple[str, ...]]) -> CityDirectory:
    return FactRepository(session).directory(groups)


def _admit(rule: Rule, directory: CityDirectory, prefix: str = "") -> list[str]:
    """The limits and the scope check for a definition coming in; the warnings to answer with."""
    try:
        warnings = admit(rule, directory)
    except RuleInvalid as error:
        raise _invalid(error, prefix) from error
    return [f"{prefix}{warning}" for warning in warnings]


@router.get("/rules", response_model=list[RuleRead])
def list_rules(wiring: Wiring, _principal: CurrentPrincipal) -> list[RuleRead]:
    with wiring.sessions() as session:
        return [rule_read(rule) for rule in RuleRepository(session).current()]


@router.post("/rules", response_model=RuleRead, status_code=201)
def create_rule(body: RuleCreate, wiring: Wiring, principal: Principal = require_roles(*EDITORS)) -> RuleRead:
    rule = parse_rule(body.model_dump(exclude_none=True))
    with wiring.unit_of_work() as uow:
        repository = RuleRepository(uow.session)
        warnings = _admit(rule, _directory(uow.session, repository.groups()))
        if repository.get(rule.rule_id) is not None:
            raise ProblemError(409, "rule_exists", f"rule {rule.rule_id} exists; PUT a new version instead")
        saved = repository.save_new(rule, uow.now(), principal.subject)
        uow.commit()
    return rule_read(saved, warnings=warnings)


@router.get("/rules/export", response_class=Response, responses={200: {"content": {"application/yaml": {}}}})
def export_rules(wiring: Wiring, _principal: CurrentPrincipal) -> Response:
    with wiring.sessions() as session:
        repository = RuleRepository(session)
        text = dump_rules_yaml(repository.current(), repository.groups())
    return Response(text, media_type="application/yaml; charset=utf-8")


@router.post("/rules/import", response_model=RuleImportResult)
async def import_rules(request: Request, wiring: Wiring, principal: Principal = require_roles(*EDITORS)):
    """Body: the YAML document itself (`application/yaml` or `text/yaml`), or JSON `{"yaml": "..."}`.
    A new id creates a rule; a changed definition makes a new version; an identical one is left alone."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            text = json.loads(raw.decode("utf-8"))["yaml"]
        except (ValueError, KeyError, TypeError) as error:
            raise ProblemError(422, "yaml_missing", 'send the YAML as the body or as {"yaml": "..."}') from error
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ProblemError(422, "yaml_not_utf8", "the YAML must be UTF-8") from error
    try:
        document = load_rules_yaml(text)
    except RuleInvalid as error:
        raise _invalid(error) from error
    return await run_in_threadpool(_import, wiring, document, principal.subject)


def _import(wiring: AlertsWiring, document, by: str) -> RuleImportResult:
    created, revised, unchanged = [], [], []
    with wiring.unit_of_work() as uow:
        repository = RuleRepository(uow.session)
        now = uow.now()
        directory = _directory(uow.session, {**repository.groups(), **document.groups})
        warnings = [warning for name, regions in document.groups.items()
                    for warning in region_warnings(regions, directory, f"groups.{name}")]
        for index, rule in enumerate(document.rules):
            warnings += _admit(rule, directory, f"rules[{index}].")
        for name, regions in document.groups.items():
            repository.put_group(name, list(regions), now)
        for rule in document.rules:
            current = repository.get(rule.rule_id)
            if current is None:
                repository.save_new(rule, now, by)
                created.append(rule.rule_id)
            elif current.to_mapping() == rule.to_mapping():
                unchanged.append(rule.rule_id)
            else:
                repository.save_revision(rule, current.version, now, by)
                revised.append(rule.rule_id)
        uow.commit()
    return RuleImportResult(created=created, revised=revised, unchanged=unchanged, groups=sorted(document.groups),
                            warnings=warnings)


@router.get("/rules/{rule_id}", response_model=RuleRead)
def get_rule(rule_id: str, wiring: Wiring, _principal: CurrentPrincipal) -> RuleRead:
    with wiring.sessions() as session:
        repository = RuleRepository(session)
        rule = repository.get(rule_id)
        if rule is None:
            raise ProblemError(404, "rule_not_found", f"no rule {rule_id}")
        return rule_read(rule, repository.versions(rule_id))


@router.get("/rules/{rule_id}/versions/{version}", response_model=RuleRead)
def get_rule_version(rule_id: str, wiring: Wiring, _principal: CurrentPrincipal,
                     version: int = Path(ge=1, le=MAX_VERSION)) -> RuleRead:
    with wiring.sessions() as session:
        rule = RuleRepository(session).get(rule_id, version)
    if rule is None:
        raise ProblemError(404, "rule_not_found", f"no rule {rule_id} version {version}")
    return rule_read(rule)


@router.put("/rules/{rule_id}", response_model=RuleRead)
def revise_rule(
    rule_id: str, body: RuleUpdate, wiring: Wiring, principal: Principal = require_roles(*EDITORS)
) -> RuleRead:
    rule = parse_rule(body.model_dump(exclude_none=True, exclude={"expected_version"}), rule_id=rule_id)
    with wiring.unit_of_work() as uow:
        repository = RuleRepository(uow.session)
        if repository.get(rule_id) is None:
            raise ProblemError(404, "rule_not_found", f"no rule {rule_id}")
        warnings = _admit(rule, _directory(uow.session, repository.groups()))
        try:
            saved = repository.save_revision(rule, body.expected_version, uow.now(), principal.subject)
        except StaleVersion as error:
            raise ProblemError(409, "stale_version", str(error), current_version=error.current) from error
        uow.commit()
    return rule_read(saved, warnings=warnings)


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(
    rule_id: str, wiring: Wiring, expected_version: int = Query(ge=1, le=MAX_VERSION),
    _principal: Principal = require_roles(*EDITORS),
) -> Response:
    with wiring.unit_of_work() as uow:
        repository = RuleRepository(uow.session)
        if repository.get(rule_id) is None:
            raise ProblemError(404, "rule_not_found", f"no rule {rule_id}")
        try:
            repository.delete(rule_id, expected_version, uow.now())
        except StaleVersion as error:
            raise ProblemError(409, "stale_version", str(error), current_version=error.current) from error
        uow.commit()
    return Response(status_code=204)


@router.get("/groups", response_model=dict[str, list[str]])
def list_groups(wiring: Wiring, _principal: CurrentPrincipal) -> dict[str, list[str]]:
    with wiring.sessions() as session:
        return {name: list(regions) for name, regions in RuleRepository(session).groups().items()}


@router.put("/groups/{name}", response_model=GroupWritten)
def put_group(name: str, body: GroupWrite, wiring: Wiring, _principal: Principal = require_roles(*EDITORS)):
    """Regions alerts does not know yet are kept, and named in `warnings`."""
    with wiring.unit_of_work() as uow:
        repository = RuleRepository(uow.session)
        warnings = region_warnings(body.regions, _directory(uow.session, repository.groups()), "regions")
        repository.put_group(name, body.regions, uow.now())
        uow.commit()
        groups = {group: list(regions) for group, regions in repository.groups().items()}
    return GroupWritten(name=name, regions=groups[name], groups=groups, warnings=warnings)
