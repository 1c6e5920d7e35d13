"""The records, errors, coordinate systems, settings and rules every other layer shares."""
