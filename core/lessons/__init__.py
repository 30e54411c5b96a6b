"""Lessons: the lessons folder read and checked (files), each lesson's set-up (setup), what a
check sees of a run (evidence) and the check itself (checks). The top of core.

Imports every package below it (`export` for the share links a set-up is read with, `runs` for
the store); nothing in core imports it.
"""
