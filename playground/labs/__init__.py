"""Labs: a course assignment as a sequence of steps, each with its question, the settings it needs,
what to run and the deliverable it fills.

    format.py    the lab file (TOML): Lab and Step, loading and validation with file, line and field
    deliver.py   filling a step's deliverable: samples, a worked count, a run, a sweep, conv arithmetic, ...
    progress.py  where a student is in a lab and what they typed, kept in the run store
    notebook.py  a lab as a Jupyter notebook or a self-contained HTML report

The shipped labs are in assets/labs/; a teacher's own go in $PLAYGROUND_HOME/labs/ (same format).
"""
