"""nbclient hooks for `nbconvert --execute`, loaded by nbconvert as a config file (`--config`).

One `@@nb {json}` line per event on stderr (per-cell progress without --debug's flood), and a
snapshot of the notebook as far as it ran, written to $NBEXEC_SNAPSHOT even when a cell fails
(nbconvert writes nothing then).
"""
import atexit, json, os, sys
import nbformat

_nb = None

def _emit(event, **kw):
    sys.stderr.write("@@nb " + json.dumps(dict(event=event, **kw)) + "\n")
    sys.stderr.flush()

def _start(notebook, **_):
    global _nb
    _nb = notebook  # executed in place: outputs accumulate here
    _emit("start", code=[i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and c.source.strip()])

def _cell(cell, cell_index, **_):
    _emit("cell", index=cell_index)

def _done(cell, cell_index, execute_reply=None, **_):
    _emit("done", index=cell_index, status=((execute_reply or {}).get("content") or {}).get("status"))

@atexit.register
def _snapshot():
    # runs after an uncaught CellExecutionError / timeout too (sync nbclient calls no completion hook)
    path = os.environ.get("NBEXEC_SNAPSHOT")
    if path and _nb is not None:
        nbformat.write(_nb, path)

c = get_config()
c.ExecutePreprocessor.on_notebook_start = _start
c.ExecutePreprocessor.on_cell_execute = _cell
c.ExecutePreprocessor.on_cell_executed = _done
