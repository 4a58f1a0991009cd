"""``tracesync demo``: the whole pipeline on one machine, fed by a simulated plant, then asked.

Modules: ``setup`` (the run's settings and folder), ``plant_systems`` (a WMS stand-in that
receives notices), ``renderers`` and ``feed`` (the simulator's events through REST, database
outbox and file drops), ``bad_input`` (a refused request, a rejected row), ``progress`` (the live
view), ``answers`` (questions to the trace store, compared with the oracle) and ``run``.
"""
