"""Every plotly figure the pages show, each a pure function from plain values (a snapshot, a
run, an evaluation, a study) to a figure; the pages decide where it goes. Imports any
package below it, never core.export.
"""
