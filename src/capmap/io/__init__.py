"""Reading untrusted files, validating what was read, and writing exports."""
