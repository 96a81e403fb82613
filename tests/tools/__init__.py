"""Tools the tests share with `make` targets (hold-out scoring, tempting countries)."""
