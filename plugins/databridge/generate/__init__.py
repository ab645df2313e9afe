"""Whole databases: the one generator (discovered tables → spec mappings) behind include patterns, `databridge init` and
the wizard's "Add all tables", with its naming conventions. Pure, except discover.py, which reads the source."""
