"""The demo prefecture: a generated, realistic Changji with planted defects."""
