"""territory_opt: sales territory design and quota setting."""

__version__ = "0.1.0"
