"""A faithful o/DAILIES v2 simulator on loopback, for ``--demo``, the tests and benchmarks.

``Simulator`` serves the API (``/api/v2``) and a signed-URL upload sink on two ports of
127.0.0.1; ``Faults`` switches latency, errors, dropped connections, clock skew and bad
uploads on and off while it runs.
"""

from .faults import Faults
from .server import RequestRecord, Simulator, UploadRecord

__all__ = ["Faults", "RequestRecord", "Simulator", "UploadRecord"]
