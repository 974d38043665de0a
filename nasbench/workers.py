"""Worker processes that never outlive the run that started them."""

from __future__ import annotations

import os
import threading


def watch_parent() -> None:
    """Pool initializer: exit as soon as the parent process dies, even by ``kill -9`` (which gives it no chance to
    stop its pool), instead of computing on for nobody. Also limits BLAS to one thread, as workers should."""
    import multiprocessing.connection

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def wait() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)  # the parent is gone: no one will read our results

    threading.Thread(target=wait, name="nasbench-watch-parent", daemon=True).start()
