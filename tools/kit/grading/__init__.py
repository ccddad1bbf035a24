"""Grading a class: batch grading, containment, scores, feedback, Gradescope.

Built on the kit's own checks (kit.runner): a submission only ever
contributes the files the manifest says students edit.
"""
