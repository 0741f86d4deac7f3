"""The neutral core every layer may import: settings, the instance key and the one failure family.

It imports nothing of ours, so nothing below the edges depends on HTTP.
"""
