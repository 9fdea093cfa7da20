"""National-standard rules as plain functions: identifiers, checksums, code tables."""
