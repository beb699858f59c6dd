"""One adapter module per driver, each defining ``DRIVER`` (see ``base.py``)."""
