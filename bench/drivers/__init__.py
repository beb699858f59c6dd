"""One adapter module per driver; each defines ``DRIVER`` (see :mod:`bench.drivers.base`)."""
