"""The valuation core of meshvalue: plain Python, frozen dataclasses and Decimal.

Nothing here imports Django, DRF, Celery or the apps (an import-linter contract in
pyproject.toml enforces it), so the rules can be read and tested on their own.
"""
