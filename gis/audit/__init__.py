"""Audits of grids against a standards profile, computed in PostGIS."""
