"""The command line (`minigan ...`, `python -m minigan ...`): main.py parses and runs the verbs;
flags.py makes `minigan train`'s flags from TrainConfig's fields; export.py is `minigan
export`; startup.py keeps a Ctrl-C during the imports to one line. Kept light: importing this
package imports nothing else, since minigan/__init__.py imports startup from it."""
