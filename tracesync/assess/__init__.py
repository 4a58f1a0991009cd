"""The selection assessment: the problem statement's five-step frame as executable rules.

An inventory (:mod:`tracesync.assess.model`, read from TOML by :mod:`tracesync.assess.loader`)
describes a plant's systems, the flows between them, the team, the budget, the plans for the next
3-5 years and the vendor. :func:`tracesync.assess.assessment.assess` runs the five steps, scores
the three sync styles (point-to-point API, middleware hub, timed file exchange) on the four
dimensions and recommends a tracesync edge per flow; :mod:`tracesync.assess.emit` writes the
configuration that puts the recommendation into service. All rules are pure functions.
"""
