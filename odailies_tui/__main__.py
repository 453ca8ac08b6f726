"""Allow ``python -m odailies_tui``."""

from odailies_tui.cli import main

raise SystemExit(main())
