"""The one exception type for bad input (unknown model or parameter, wrong type, out of
range), and the one for a model that breaks its own contract."""


class ParameterError(ValueError):
    """Bad user input: the message names the offending key and what is allowed.

    Raised before any computation runs; the CLI turns it into exit status 2 and a
    one-line message, the workflow into a configuration error naming the study. The
    message is one line whatever the input held: control characters in it (a study named
    "\\n", a tab in a key) are shown escaped, as in ``repr``.
    """

    def __str__(self) -> str:
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in super().__str__())


class ConfigError(ParameterError):
    """A bad config: the message names the study and key, e.g. ``study 'a', sweep 'T': ...``."""


class ModelContractError(RuntimeError):
    """A model's ``solve`` returned something its declarations do not allow (an undeclared
    or missing observable, a wrong shape): a bug of the model, not of the input; the message
    names the model, the point and the observable (:func:`ness_core.api.check_observables`).
    """
