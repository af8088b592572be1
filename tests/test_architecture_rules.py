"""The architecture's two hard rules, checked on the source: services never import each other, and
the domain imports no framework."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["ingestion", "allocation", "negotiation", "alerts"]
FRAMEWORKS = {"fastapi", "starlette", "sqlalchemy", "httpx", "kafka", "alembic", "uvicorn"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service):
    others = {f"{other}_service" for other in SERVICES if other != service}
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / f"{service}-service").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in others
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_imports_no_framework(service):
    domain = ROOT / f"{service}-service" / f"{service}_service" / "domain"
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in domain.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in FRAMEWORKS
    ]
    assert offenders == []


def test_shared_imports_no_service():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "shared").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in {f"{s}_service" for s in SERVICES}
    ]
    assert offenders == []
