"""The sample shop and its exporters, copied into the containers as the package ``app``.

Only the standard library and Debian bookworm's Python packages are available in the
containers, and the package is importable as ``app`` there but as ``testbed.app`` on the host:
modules here import each other relatively and never import ``harness``.
"""
