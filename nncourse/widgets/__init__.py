"""Interactive widgets for the notebooks (ipywidgets; no ipympl needed).

Each widget is a small class holding standard ipywidgets controls (sliders
with a ``description`` such as "w1", buttons, an HTML status text) and an
``ipywidgets.Image`` that is redrawn after every change. Display one by
leaving it as the last expression of a cell. The state a widget shows
(weights, accuracy, line end points) is kept in attributes, so tests drive
the controls in plain Python and check what changed.

Chapter 1: :class:`PerceptronExplorer`, :class:`PerceptronStepper`.
Chapter 2: :class:`CompositionExplorer`, :class:`SlowdownExplorer`.
Chapter 3: :class:`HiddenUnitsExplorer`.
Chapter 4: :class:`LearningRateExplorer`.
Chapter 6: :class:`DepthExplorer`.
Chapter 8: :class:`FilterExplorer`.
Chapter 9: :class:`TextGenerator`.
Chapter 10: :class:`GANExplorer`.
"""
from nncourse.widgets.composition import CompositionExplorer
from nncourse.widgets.depth import DepthExplorer
from nncourse.widgets.filters import FilterExplorer
from nncourse.widgets.gan import GANExplorer
from nncourse.widgets.hidden_units import HiddenUnitsExplorer
from nncourse.widgets.learning_rate import LearningRateExplorer
from nncourse.widgets.perceptron import PerceptronExplorer, PerceptronStepper
from nncourse.widgets.slowdown import SlowdownExplorer
from nncourse.widgets.text_generator import TextGenerator

__all__ = ["CompositionExplorer", "DepthExplorer", "FilterExplorer", "GANExplorer", "HiddenUnitsExplorer",
           "LearningRateExplorer", "PerceptronExplorer", "PerceptronStepper", "SlowdownExplorer",
           "TextGenerator"]
