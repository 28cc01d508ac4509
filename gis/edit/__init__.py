"""Redrawing grids: plans, edits that keep the partition, publishing with history."""
