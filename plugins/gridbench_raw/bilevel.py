"""The bilevel engine's single-level MILP (a reformulation: strong duality or KKT big-M) as a
:class:`RawModel`: the engine already holds it as matrices, so raw is the limit a layer's
emitter is measured against. Formulations built on ``BilevelKit`` pass ``to_raw`` as the
emitter of their ``raw`` build (``KIT.builder("raw", emitter=to_raw)``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.api import NotApplicable, SingleLevelModel
from gridbench_raw.adapter import RawModel


def to_raw(model: SingleLevelModel) -> tuple[RawModel, Callable[[], np.ndarray]]:
    """(RawModel, extract) where ``extract()`` returns the model's variable vector."""
    if model.sos1:
        raise NotApplicable("raw HiGHS has no SOS1 constraints: kkt_sos1 cannot be stated")
    if model.row_bilinear is not None or model.objective_bilinear is not None:
        raise NotApplicable("raw HiGHS states linear models only: a bilinear model needs a "
                            "backend/solver with the 'bilinear' feature")
    raw = RawModel(c=np.asarray(model.c, float), A=model.A.tocsc(),
                   row_lower=model.row_lower, row_upper=model.row_upper,
                   col_lower=model.lower, col_upper=model.upper,
                   integrality=model.integer_mask, sense=model.sense, offset=float(model.c0))

    def extract() -> np.ndarray:
        return np.full(model.n_vars, np.nan) if raw.x is None else raw.x.copy()

    return raw, extract
