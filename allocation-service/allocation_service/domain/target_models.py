"""The four target models. Each turns a city's inputs into an exact (unrounded) bottom-up target.

- `tiered` (default): like-for-like last-year-same-period × tier multiplier
  {high_potential 1.3, stable 1.1, declining 1.0, new 1.0} + the run-rate basis of new outlets.
- `two_factor`: like-for-like last year × (1 + a·YoY growth + b·regional GDP growth) + run rate.
  A missing growth drops its term and the basis says so.
- `multinational`: tiered × (1 + FX impact) × (1 − logistics-delay probability × impact), with
  factors per country or region (falling back to a default).
- `formula`: a validated custom expression (see `formula.VARIABLES`).

A negative base is rejected (`negative_base`); a city with nothing to go on is flagged
`no_baseline` for a manual target. Neither is ever published as a computed number (casebook C04).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from allocation_service.domain import formula
from allocation_service.domain.basis import CityBasis
from allocation_service.domain.growth import Growth
from allocation_service.domain.history import City
from allocation_service.domain.tiers import DECLINING, HIGH_POTENTIAL, NEW, STABLE

NEGATIVE_BASE = "negative_base"
NO_BASELINE = "no_baseline"
FORMULA_FAILED = "formula_failed"
NO_REVENUE_DATA = "no_revenue_data"

DEFAULT_MULTIPLIERS = {
    HIGH_POTENTIAL: Decimal("1.3"),
    STABLE: Decimal("1.1"),
    DECLINING: Decimal("1.0"),
    NEW: Decimal("1.0"),
}


@dataclass(frozen=True)
class CityInputs:
    city: City
    basis: CityBasis
    tier: str
    half_year: Growth
    year_on_year: Growth


@dataclass(frozen=True)
class ModelResult:
    target: Decimal | None
    basis: str
    flag: str | None = None


@dataclass(frozen=True)
class TieredModel:
    multipliers: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_MULTIPLIERS))
    name: str = "tiered"

    def multiplier(self, tier: str) -> Decimal:
        return self.multipliers.get(tier, Decimal(1))

    def compute(self, inputs: CityInputs) -> ModelResult:
        checked = _check_base(inputs)
        if checked is not None:
            return checked
        multiplier = self.multiplier(inputs.tier)
        target = inputs.basis.lfl_base * multiplier + inputs.basis.fresh_basis
        return ModelResult(target, f"tiered ×{multiplier} on like-for-like ({inputs.tier})")


@dataclass(frozen=True)
class TwoFactorModel:
    a: Decimal = Decimal("1")
    b: Decimal = Decimal("0.5")
    name: str = "two_factor"

    def compute(self, inputs: CityInputs) -> ModelResult:
        checked = _check_base(inputs)
        if checked is not None:
            return checked
        factor = Decimal(1)
        notes = []
        yoy = inputs.year_on_year.rate
        if yoy is None:
            notes.append(f"YoY growth missing ({inputs.year_on_year.reason}): term dropped")
        else:
            factor += self.a * yoy
        gdp = inputs.city.gdp_growth
        if gdp is None:
            notes.append("GDP growth missing: term dropped")
        else:
            factor += self.b * gdp
        target = inputs.basis.lfl_base * factor + inputs.basis.fresh_basis
        text = f"two_factor ×{factor} on like-for-like (a={self.a}, b={self.b})"
        return ModelResult(target, "; ".join([text, *notes]))


@dataclass(frozen=True)
class MarketFactors:
    fx_impact: Decimal = Decimal(0)
    delay_probability: Decimal = Decimal(0)
    delay_impact: Decimal = Decimal(0)

    def factor(self) -> Decimal:
        return (1 + self.fx_impact) * (1 - self.delay_probability * self.delay_impact)


@dataclass(frozen=True)
class MultinationalModel:
    by_market: dict[str, MarketFactors] = field(default_factory=dict)
    default: MarketFactors = MarketFactors()
    tiered: TieredModel = TieredModel()
    name: str = "multinational"

    def compute(self, inputs: CityInputs) -> ModelResult:
        base = self.tiered.compute(inputs)
        if base.target is None:
            return base
        market = inputs.city.region if inputs.city.region in self.by_market else None
        factors = self.by_market.get(market, self.default) if market else self.default
        factor = factors.factor()
        return ModelResult(
            base.target * factor,
            f"{base.basis}; × market factor {factor} ({market or 'default'})",
        )


@dataclass(frozen=True)
class FormulaModel:
    expression: str
    multipliers: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_MULTIPLIERS))
    name: str = "formula"

    def __post_init__(self) -> None:
        object.__setattr__(self, "expression", formula.validate(self.expression))

    def compute(self, inputs: CityInputs) -> ModelResult:
        checked = _check_base(inputs)
        if checked is not None:
            return checked
        values = variables_for(inputs, self.multipliers.get(inputs.tier, Decimal(1)))
        missing = sorted(n for n in formula.names_used(self.expression) if values.get(n) is None)
        if missing:
            return ModelResult(None, f"formula needs {', '.join(missing)}, which is missing", FORMULA_FAILED)
        try:
            target = formula.evaluate(self.expression, values)
        except formula.FormulaError as exc:
            return ModelResult(None, f"formula failed: {exc}", FORMULA_FAILED)
        if target < 0:
            return ModelResult(None, f"formula gave a negative target {target}", NEGATIVE_BASE)
        return ModelResult(target, f"formula: {self.expression}")


def variables_for(inputs: CityInputs, multiplier: Decimal) -> dict[str, Decimal | None]:
    basis = inputs.basis
    return {
        "ly": basis.lfl_base,
        "run_rate": basis.fresh_basis,
        "base": basis.bottom_up,
        "multiplier": multiplier,
        "hy_growth": inputs.half_year.rate,
        "yoy_growth": inputs.year_on_year.rate,
        "gdp_growth": inputs.city.gdp_growth,
        "days": Decimal(basis.period.days),
        "comparable_outlets": Decimal(basis.comparable_outlets),
        "new_outlets": Decimal(basis.new_outlets),
    }


TargetModel = TieredModel | TwoFactorModel | MultinationalModel | FormulaModel


MODEL_PARAMETERS = {
    "tiered": ("multipliers",),
    "two_factor": ("a", "b"),
    "multinational": ("multipliers", "markets", "default"),
    "formula": ("expression", "multipliers"),
}
MAX_PARAMETER = Decimal(1_000_000)


def model_from_config(name: str, params: dict | None = None) -> TargetModel:
    """Build a model from a plan's stored configuration (numbers as strings)."""
    params = params or {}
    if name not in MODEL_PARAMETERS:
        raise ValueError(f"unknown target model {name!r}")
    unknown = sorted(set(params) - set(MODEL_PARAMETERS[name]))
    if unknown:
        raise ValueError(f"unknown parameters {unknown} for the {name} model; allowed: {list(MODEL_PARAMETERS[name])}")
    if name == "tiered":
        return TieredModel(multipliers=_multipliers(params.get("multipliers")))
    if name == "two_factor":
        return TwoFactorModel(a=_dec(params.get("a", "1"), "a"), b=_dec(params.get("b", "0.5"), "b"))
    if name == "multinational":
        markets = {key: _factors(value, f"markets.{key}") for key, value in _mapping(params.get("markets"), "markets").items()}
        return MultinationalModel(
            by_market=markets,
            default=_factors(params.get("default"), "default"),
            tiered=TieredModel(multipliers=_multipliers(params.get("multipliers"))),
        )
    expression = params.get("expression")
    if not expression:
        raise formula.FormulaError("the formula model needs an expression")
    if not isinstance(expression, str):
        raise formula.FormulaError("the formula's expression must be a string")
    return FormulaModel(expression, multipliers=_multipliers(params.get("multipliers")))


def _check_base(inputs: CityInputs) -> ModelResult | None:
    basis = inputs.basis
    if basis.lfl_base < 0 or basis.fresh_basis < 0:
        return ModelResult(None, f"negative base ({format(basis.bottom_up, 'f')}): rejected", NEGATIVE_BASE)
    if basis.comparable_outlets == 0 and basis.new_outlets == 0 and basis.pending_outlets == 0:
        return ModelResult(None, "no trading outlets to base a target on: manual target needed", NO_BASELINE)
    return None


def _dec(value: object, what: str = "parameter") -> Decimal:
    if isinstance(value, (float, bool)):
        raise TypeError(f"{what}: model parameters must be strings or integers, never {type(value).__name__}s")
    if not isinstance(value, (str, int, Decimal)):
        raise TypeError(f"{what}: expected a number as a string, got {type(value).__name__}")
    try:
        result = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError(f"{what}: {value!r} is not a number") from None
    if not result.is_finite() or abs(result) > MAX_PARAMETER:
        raise ValueError(f"{what}: {value!r} must be a finite number between -{MAX_PARAMETER} and {MAX_PARAMETER}")
    return result


def _mapping(raw: object, what: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise TypeError(f"{what} must be an object, got {type(raw).__name__}")
    return raw


def _multipliers(raw: object) -> dict[str, Decimal]:
    merged = dict(DEFAULT_MULTIPLIERS)
    for tier, value in _mapping(raw, "multipliers").items():
        if tier not in DEFAULT_MULTIPLIERS:
            raise ValueError(f"multipliers: unknown tier {tier!r}; tiers: {list(DEFAULT_MULTIPLIERS)}")
        merged[tier] = _dec(value, f"multipliers.{tier}")
    return merged


def _factors(raw: object, what: str) -> MarketFactors:
    raw = _mapping(raw, what)
    unknown = sorted(set(raw) - {"fx_impact", "delay_probability", "delay_impact"})
    if unknown:
        raise ValueError(f"{what}: unknown factors {unknown}")
    return MarketFactors(
        fx_impact=_dec(raw.get("fx_impact", "0"), f"{what}.fx_impact"),
        delay_probability=_dec(raw.get("delay_probability", "0"), f"{what}.delay_probability"),
        delay_impact=_dec(raw.get("delay_impact", "0"), f"{what}.delay_impact"),
    )
