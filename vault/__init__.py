"""The document vault's domain: what an upload is, how it is checked, how its text is read."""
