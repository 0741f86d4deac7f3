"""Template fills: DOCX templates filled from the vault in a sandbox, as jobs."""
