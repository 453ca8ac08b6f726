"""Switchable faults for the simulator: latency, 500s, dropped connections, skew, bad uploads.

A ``Faults`` object is read by the simulator on every request, so tests and the ``sim``
subcommand may change its fields while the server runs.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field, fields

_FLOAT_FIELDS = {"latency", "error_rate", "drop_rate", "clock_skew"}
_INT_FIELDS = {"drop_next", "fail_next_put"}
_BOOL_FIELDS = {"expire_urls"}


@dataclass
class Faults:
    """Faults applied to API requests (and to the upload sink where noted)."""

    latency: float = 0.0  # seconds added before answering an API request
    error_rate: float = 0.0  # fraction of API requests answered 500
    drop_rate: float = 0.0  # fraction of API requests whose connection is closed unanswered
    drop_next: int = 0  # drop the next N API requests (deterministic)
    clock_skew: float = 0.0  # seconds added to the server clock (negative: server behind)
    fail_next_put: int = 0  # sink: the next N PUTs read about half the body, then drop
    expire_urls: bool = False  # upload URLs are issued already expired
    seed: int = 0  # seed of the random draws for the rates
    _rng: random.Random = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self._rng is None:
            self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Build faults from ``"latency=0.5,error_rate=0.1,drop_rate=0.2,clock_skew=-600"``.

        Raises ``ValueError`` naming the bad part on an unknown key or a bad value.
        """
        values: dict[str, object] = {}
        known = {f.name for f in fields(cls) if not f.name.startswith("_")}
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            key, sep, raw = part.partition("=")
            key, raw = key.strip().replace("-", "_"), raw.strip()
            if key not in known:
                raise ValueError(f"unknown fault {key!r} (known: {', '.join(sorted(known))})")
            if key in _BOOL_FIELDS:
                if not sep:
                    values[key] = True
                    continue
                low = raw.lower()
                if low not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise ValueError(f"fault {key!r} needs a boolean, got {raw!r}")
                values[key] = low in {"1", "true", "yes", "on"}
                continue
            if not sep:
                raise ValueError(f"fault {key!r} needs a value: {key}=...")
            try:
                values[key] = int(raw) if key in _INT_FIELDS | {"seed"} else float(raw)
            except ValueError:
                raise ValueError(f"fault {key!r} needs a number, got {raw!r}") from None
        faults = cls(**values)  # type: ignore[arg-type]
        faults.validate()
        return faults

    def validate(self) -> None:
        """Raise ``ValueError`` when a field is out of range."""
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name} must be between 0 and 1, got {value}")
        if self.latency < 0:
            raise ValueError(f"fault latency must be >= 0, got {self.latency}")
        if self.drop_next < 0 or self.fail_next_put < 0:
            raise ValueError("fault counters must be >= 0")

    # -- draws used by the server (thread safe) ---------------------------------------------

    def take_drop(self) -> bool:
        """True when this API request must be dropped (consumes ``drop_next``)."""
        with self._lock:
            if self.drop_next > 0:
                self.drop_next -= 1
                return True
            return self.drop_rate > 0 and self._rng.random() < self.drop_rate

    def take_error(self) -> bool:
        """True when this API request must be answered 500."""
        with self._lock:
            return self.error_rate > 0 and self._rng.random() < self.error_rate

    def take_fail_put(self) -> bool:
        """True when this sink PUT must break half way (consumes ``fail_next_put``)."""
        with self._lock:
            if self.fail_next_put > 0:
                self.fail_next_put -= 1
                return True
            return False
