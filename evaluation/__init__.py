"""evaluation: declare, estimate and report evaluations of Danish labour-market projects."""

__version__ = "0.1.0"
