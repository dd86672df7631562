"""Example strategies: functions that take a PlayerView and return a decision."""
