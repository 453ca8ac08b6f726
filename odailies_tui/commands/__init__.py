"""Subcommands of ``odailies-tui``.

Each module offers ``add_parser(subparsers)`` and ``run(args)``.
"""
