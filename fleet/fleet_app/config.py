"""The app's settings: the defaults of `pyproject.toml`'s `[tool.flwr.app.config]`,
overridden by the run's config (`flwr run fleet -c 'key=value'`) and then by the
settings a Python caller gave (`fleet_app.run`, which runs the simulation in-process,
where Flower passes no run config)."""

from __future__ import annotations

from typing import Any, Mapping

DEFAULTS: dict[str, Any] = {
    "num-server-rounds": 10,
    "windows-per-round": 40,
    "strategy": "fedavg",
    "fedadam-eta": 0.1,
    "seed": 42,
    "results-file": "",
}


def settings(run_config: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """DEFAULTS, then `run_config`, then `overrides`; unknown keys are an error."""
    out = dict(DEFAULTS)
    for src in (run_config, overrides or {}):
        for k, v in src.items():
            if k not in DEFAULTS:
                raise ValueError(f"fleet setting {k!r}: unknown (known: {', '.join(DEFAULTS)})")
            out[k] = v
    return out
