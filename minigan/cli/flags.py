"""`minigan train`'s flags, made from TrainConfig's fields (minigan/training/config.py).

Each field becomes `--field-name` with the help, metavar and choices its metadata carries;
a bool field is a switch, an `int | None` field takes an int. Every flag defaults to None
("not given"), so that the command line can tell a typed value from a default (--resume
accepts a repeated flag only with its saved value). A setting added to TrainConfig gets its
flag here without an edit, and no flag can drift from the setting it sets.
"""
import dataclasses
import typing


def flag(name):
    """The flag of a field: d_steps -> --d-steps."""
    return "--" + name.replace("_", "-")


def value_type(field):
    """int for `int | None`, str for `str`, ..."""
    kinds = [t for t in typing.get_args(field.type) if t is not type(None)]
    return kinds[0] if kinds else field.type


def help_text(field):
    meta = field.metadata
    text = meta["help"]() if callable(meta["help"]) else meta["help"]
    if value_type(field) is bool:
        return text
    shown = field.default if meta["default_text"] is None else meta["default_text"]
    return f"{text} (default: {shown})".strip() if shown != "" else text


def add_config_flags(parser, config_class, sections=None):
    """One flag per field of `config_class` (a dataclass whose fields were made by
    training.config.setting); sections: {section name: its --help description}."""
    groups, exclusive = {}, {}
    for field in dataclasses.fields(config_class):
        meta = field.metadata
        target = parser
        if meta["section"] is not None:
            if meta["section"] not in groups:
                description = (sections or {}).get(meta["section"])
                groups[meta["section"]] = parser.add_argument_group(meta["section"], description)
            target = groups[meta["section"]]
        if meta["exclusive"] is not None:
            if meta["exclusive"] not in exclusive:
                exclusive[meta["exclusive"]] = target.add_mutually_exclusive_group()
            target = exclusive[meta["exclusive"]]
        options = {"help": help_text(field), "default": None}
        if value_type(field) is bool:
            options["action"] = "store_true"
        else:
            options["type"] = value_type(field)
            if meta["choices"] is not None:
                options["choices"] = list(meta["choices"]())
            else:
                options["metavar"] = meta["metavar"]
        target.add_argument(flag(field.name), **options)


def given_settings(args, config_class):
    """The fields the command line set: {name: value} of the flags that were typed."""
    names = {field.name for field in dataclasses.fields(config_class)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}
