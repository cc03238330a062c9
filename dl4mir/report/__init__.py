"""Figures for the lessons and the run's HTML report."""
