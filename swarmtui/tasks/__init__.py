"""Task files: load and validate the tasks of a run.

Two formats are read:

* TOML: an array of ``[[task]]`` tables (see ``TOML_KEYS``).
* JSON feature list, in the style of long-running agent harnesses: an array of objects with
  ``category``, ``description``, ``steps`` and ``passes``. Every feature with ``passes: false``
  becomes a task; features that already pass are skipped. A ``depends_on`` that names a passing
  feature is already satisfied, so it is dropped from the task's ``depends_on``.

Validation collects every problem in the file and raises one ``TaskFileError`` listing them all,
one line each, every line naming the file, the task and the key, so a user fixes the whole file in
one pass instead of one error per run.

The package holds ``ids`` (valid ids, ids and titles made from text), ``checks`` (the field
checks and the problem collector), ``cross`` (duplicates, dependencies and cycles across tasks),
``toml_tasks`` and ``features`` (the two formats), ``load`` (reading a file) and ``added`` (tasks
added at run time); everything is imported from here.
"""

from swarmtui.tasks.added import validate_new_task
from swarmtui.tasks.features import FEATURE_KEYS, FEATURE_REQUIRED
from swarmtui.tasks.ids import (
    ID_EXPECTED,
    SLUG_MAX,
    TASK_ID_RE,
    TITLE_MAX,
    is_valid_task_id,
    make_task_id,
)
from swarmtui.tasks.load import load_tasks
from swarmtui.tasks.toml_tasks import TOML_KEYS

__all__ = [
    "FEATURE_KEYS",
    "FEATURE_REQUIRED",
    "ID_EXPECTED",
    "SLUG_MAX",
    "TASK_ID_RE",
    "TITLE_MAX",
    "TOML_KEYS",
    "is_valid_task_id",
    "load_tasks",
    "make_task_id",
    "validate_new_task",
]
