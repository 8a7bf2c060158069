"""What every command-line tool of the project does around its ``main``."""
import sys
from typing import Any, Callable, Tuple, Type


def run_cli(main: Callable[[], Any],
            errors: Tuple[Type[BaseException], ...] = (OSError, ValueError)) -> Any:
    """Run a tool's ``main()``; an input or configuration error (a missing file, a bad
    value: ``OSError``/``ValueError`` by default) ends in one line ``error: <message>`` on
    stderr and exit status 2 instead of a traceback.

    Args:
        main (Callable): The tool's entry point, called without arguments.
        errors (tuple): Exception types reported as one line.

    Returns:
        Any: What ``main()`` returned.
    """
    try:
        return main()
    except errors as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
