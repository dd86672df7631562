"""Worked examples for Moatline users: strategies to copy into a study or a notebook."""
