"""The plant simulator with an oracle (``tracesync simulate``).

A seeded ground-truth plant (:mod:`.plant`, :mod:`.quality`, :mod:`.logistics`) becomes envelope
events per the contract (:mod:`.events`); :mod:`.faults` injects recorded faults; :mod:`.oracle`
computes the expected final facts from the truth; :mod:`.publish` sends the records to Kafka.
"""

from tracesync.devtools.simulator.expected import ExpectedChain
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.oracle import Oracle
from tracesync.devtools.simulator.scenario import Simulation, SimulationConfig, simulate

__all__ = ["ExpectedChain", "FaultRates", "Oracle", "Simulation", "SimulationConfig", "simulate"]
