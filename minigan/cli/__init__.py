"""The command line (`minigan ...`, `python -m minigan ...`): main.py parses and runs the verbs;
startup.py keeps a Ctrl-C during the imports to one line; export.py is `minigan export`.
Kept light: importing this package imports nothing else, since minigan/__init__.py imports
startup from it."""
