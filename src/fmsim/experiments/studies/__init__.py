"""The studies fmsim runs for its users, each a function returning a result object.

=========================  =====================================  ==========================
study                      function                               result (``kind``)
=========================  =====================================  ==========================
passive transfer in mice   :func:`passive_transfer_study`          :class:`PassiveTransferStudy`
a lab's own data           :func:`load_lab_data`,                  :class:`LabDataStudy`
                           :func:`lab_data_study`
power of a mouse study     :func:`power_study`                     :class:`PowerStudy`
therapies compared         :func:`therapy_study`                   :class:`TherapyStudy`
virtual clinical trial     :func:`trial_study`                     :class:`TrialStudy`
=========================  =====================================  ==========================

Every result has ``tables()`` (named tables with units and descriptions), ``provenance`` and
``save(folder)``; :func:`fmsim.report.render` draws its figures and HTML report.
"""

from fmsim.experiments.studies.lab_data import LabData, LabDataStudy, lab_data_study, load_lab_data
from fmsim.experiments.studies.passive_transfer import PassiveTransferStudy, passive_transfer_study
from fmsim.experiments.studies.power import PowerStudy, power_study
from fmsim.experiments.studies.therapies import TherapyStudy, therapy_study
from fmsim.experiments.studies.trial import TrialStudy, trial_study

__all__ = [
    "LabData",
    "LabDataStudy",
    "PassiveTransferStudy",
    "PowerStudy",
    "TherapyStudy",
    "TrialStudy",
    "lab_data_study",
    "load_lab_data",
    "passive_transfer_study",
    "power_study",
    "therapy_study",
    "trial_study",
]
