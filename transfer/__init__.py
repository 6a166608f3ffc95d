"""Shared core of the TCP and UDP file-transfer programs.

What both protocols have in common lives here: project paths, the file
catalog and its generator, hashing, control-message encoding, per-test logs,
prompts, the live status display and the interactive program shells.
"""
