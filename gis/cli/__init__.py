"""The ``gridgov`` command line."""
