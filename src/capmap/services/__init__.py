"""What capmap does with the records: imports, the planscape, coverage, progress, pins, exports."""
